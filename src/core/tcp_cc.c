/* glasstcp — congestion control: slow start and congestion avoidance (RFC 5681, RFC 3465 byte
 * counting), NewReno (RFC 6582) and CUBIC (RFC 9438), behind one small interface. */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>

#include <string.h>

#define CUBIC_BETA 0.7 /* RFC 9438 §4.6 */
#define CUBIC_C 0.4    /* RFC 9438 §5 */
#define CWND_MAX (1u << 30)

static double cube_root(double x)
{
    if (x <= 0.0)
        return 0.0;
    double r = x > 1.0 ? x / 3.0 : 1.0;
    for (int i = 0; i < 100; i++) { /* Newton's method; converges in a few dozen steps */
        double next = r - (r * r * r - x) / (3.0 * r * r);
        if (next == r)
            break;
        r = next;
    }
    return r;
}

const char *glass_cc_name(int algo)
{
    return algo == GLASS_CC_NEWRENO ? "reno" : "cubic";
}

int glass_cc_parse(const char *name, size_t len)
{
    if ((len == 5 && memcmp(name, "cubic", 5) == 0))
        return GLASS_CC_CUBIC;
    if ((len == 4 && memcmp(name, "reno", 4) == 0) || (len == 7 && memcmp(name, "newreno", 7) == 0))
        return GLASS_CC_NEWRENO;
    return -1;
}

void glass_cc_init(struct glass_stack *st, struct glass_tcb *tcb)
{
    /* RFC 6928 initial window of init_cwnd segments (Linux: 10). */
    uint32_t iw = (uint32_t)st->cfg.init_cwnd * tcb->snd_mss;
    tcb->cwnd = iw > 0 ? iw : tcb->snd_mss;
    tcb->ssthresh = UINT32_MAX; /* RFC 5681 (4): arbitrarily high */
    tcb->ca_acked = 0;
    tcb->ca_state = GLASS_CA_OPEN;
    if (tcb->x->cubic != NULL) {
        struct glass_tcb_ext *x = glass_tcb_xmut(tcb);
        glass_free(st, x->cubic, sizeof *x->cubic);
        x->cubic = NULL;
        glass_tcb_xput(st, tcb);
    }
}

/* CUBIC's state, allocated (all zero: no epoch, no W_max yet) when first needed; NULL if that
 * fails, and the caller then does without (Reno growth, no fast convergence). */
static struct glass_cubic *cubic_state(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->x->cubic == NULL) {
        struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
        if (x == NULL)
            return NULL;
        x->cubic = glass_zalloc(st, sizeof *x->cubic);
        glass_tcb_xput(st, tcb); /* if that failed */
    }
    return tcb->x->cubic;
}

static void cubic_on_ack(struct glass_stack *st, struct glass_tcb *tcb, struct glass_cubic *c,
                         uint32_t acked)
{
    double mss = tcb->snd_mss;
    if (c->epoch == 0) {
        c->epoch = st->now;
        if (tcb->cwnd < c->w_max) {
            c->k = cube_root((c->w_max - tcb->cwnd) / mss / CUBIC_C);
            c->origin = c->w_max;
        } else {
            c->k = 0.0;
            c->origin = tcb->cwnd;
        }
        c->w_est = tcb->cwnd;
    }
    double rtt = (double)(tcb->srtt ? tcb->srtt : st->cfg.rto_initial) / 1e9;
    double t = (double)(st->now - c->epoch) / 1e9 + rtt;
    double d = t - c->k;
    double target = c->origin + CUBIC_C * d * d * d * mss;
    double cwnd = tcb->cwnd;
    if (target < cwnd)
        target = cwnd;
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd; /* RFC 9438 §4.2 */
    /* RFC 9438 §4.3: the Reno-friendly estimate grows by alpha segments per window. */
    double alpha = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
    c->w_est += alpha * mss * acked / cwnd;
    double cubic_now = c->origin + CUBIC_C * (t - rtt - c->k) * (t - rtt - c->k) *
                                       (t - rtt - c->k) * mss;
    double next;
    if (cubic_now < c->w_est)
        next = c->w_est; /* Reno-friendly region */
    else
        next = cwnd + (target - cwnd) * acked / cwnd; /* concave/convex region */
    if (next > CWND_MAX)
        next = CWND_MAX;
    if (next > cwnd)
        tcb->cwnd = (uint32_t)next;
}

void glass_cc_on_ack(struct glass_stack *st, struct glass_tcb *tcb, uint32_t acked)
{
    if (acked == 0)
        return;
    if (tcb->cwnd < tcb->ssthresh) {
        /* Slow start, RFC 3465 byte counting with L = 2 * SMSS (RFC 5681 (2)). */
        uint32_t inc = acked < 2u * tcb->snd_mss ? acked : 2u * tcb->snd_mss;
        tcb->cwnd = tcb->cwnd + inc > CWND_MAX ? CWND_MAX : tcb->cwnd + inc;
        if (tcb->cwnd > tcb->ssthresh)
            tcb->cwnd = tcb->ssthresh;
        return;
    }
    struct glass_cubic *c = tcb->cc_algo == GLASS_CC_CUBIC ? cubic_state(st, tcb) : NULL;
    if (c != NULL) {
        cubic_on_ack(st, tcb, c, acked);
        return;
    }
    /* Congestion avoidance, RFC 5681 (3): about one SMSS per RTT, counted in bytes so that
     * ACK division cannot inflate it (catalogue 105). */
    tcb->ca_acked += acked;
    if (tcb->ca_acked >= tcb->cwnd) {
        tcb->ca_acked -= tcb->cwnd;
        if (tcb->cwnd + tcb->snd_mss <= CWND_MAX)
            tcb->cwnd += tcb->snd_mss;
    }
}

/* A congestion event: the new ssthresh (RFC 5681 (4): max(FlightSize / 2, 2 * SMSS); CUBIC:
 * beta * cwnd, with fast convergence). */
uint32_t glass_cc_ssthresh(struct glass_stack *st, struct glass_tcb *tcb, uint32_t flight)
{
    uint32_t floor = 2u * tcb->snd_mss;
    uint32_t ss;
    if (tcb->cc_algo == GLASS_CC_CUBIC) {
        struct glass_cubic *c = cubic_state(st, tcb);
        uint32_t w = tcb->cwnd;
        if (c != NULL) { /* without it (no memory): the reduction, no fast convergence */
            if (w < c->w_last_max) { /* RFC 9438 §4.7 fast convergence */
                c->w_last_max = w;
                c->w_max = (uint32_t)(w * (1.0 + CUBIC_BETA) / 2.0);
            } else {
                c->w_last_max = w;
                c->w_max = w;
            }
            c->epoch = 0;
        }
        ss = (uint32_t)(w * CUBIC_BETA);
    } else {
        ss = flight / 2u;
    }
    tcb->ca_acked = 0;
    return ss > floor ? ss : floor;
}

/* RFC 5681 (4)/(5) after a retransmission timeout: ssthresh from the flight, cwnd = 1 SMSS. */
void glass_cc_on_rto(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint32_t flight = glass_seq_sub(tcb->snd_max, tcb->snd_una);
    if (tcb->ca_state != GLASS_CA_LOSS || tcb->rxtshift <= 1)
        tcb->ssthresh = glass_cc_ssthresh(st, tcb, flight);
    tcb->cwnd = tcb->snd_mss;
    tcb->ca_state = GLASS_CA_LOSS;
    tcb->recover = tcb->snd_max;
}
