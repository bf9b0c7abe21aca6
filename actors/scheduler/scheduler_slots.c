//  Slots: business and working hours, busy intervals, picking a slot and
//  listing alternatives. Picking is a plain scan — a handful of preferred
//  times times a handful of agents — because clarity matters more here than
//  speed: the calendar calls around it take hundreds of milliseconds. Local
//  time goes through localtime_r in the process's TZ (set once at start).
#include "scheduler_core_internal.h"

#include <stdlib.h>

bool
sched_within_hours (const sched_config_t *cfg, const sched_agent_t *agent, int64_t start,
                    int64_t end)
{
    if (end <= start)
        return false;
    struct tm a, b;
    s_local (start, &a);
    s_local (end - 1, &b);
    if (a.tm_year != b.tm_year || a.tm_yday != b.tm_yday)
        return false;
    if (!(cfg->days & (1u << a.tm_wday)))
        return false;
    int64_t from = a.tm_hour * 60 + a.tm_min;
    int64_t to = from + (end - start + S_MINUTE - 1) / S_MINUTE;
    int open = cfg->open_min, close = cfg->close_min;
    if (agent) {
        open = agent->open_min > open ? agent->open_min : open;
        close = agent->close_min < close ? agent->close_min : close;
    }
    return from >= open && to <= close;
}

void
sched_busy_add (sched_busy_t *busy, int64_t start, int64_t end)
{
    if (end <= start)
        return;
    if (busy->count == busy->cap) {
        busy->cap = busy->cap ? busy->cap * 2 : 8;
        busy->spans = zhub_realloc (busy->spans, busy->cap * sizeof *busy->spans);
    }
    busy->spans[busy->count++] = (sched_span_t){start, end};
}

void
sched_busy_clear (sched_busy_t *busy)
{
    free (busy->spans);
    memset (busy, 0, sizeof *busy);
}

bool
sched_agent_free (const sched_busy_t *busy, int64_t start, int64_t end, int64_t buffer_ms)
{
    int64_t from = start - buffer_ms, to = end + buffer_ms;
    for (size_t i = 0; i < busy->count; i++)
        if (busy->spans[i].start < to && busy->spans[i].end > from)
            return false;
    return true;
}

//  The first eligible agent (round robin from rr) free for [start, end).
static int
s_free_agent (const sched_config_t *cfg, int64_t start, int64_t end, const sched_busy_t *busy,
              const bool *eligible, size_t rr)
{
    for (size_t k = 0; k < cfg->agent_count; k++) {
        size_t i = (rr + k) % cfg->agent_count;
        const sched_agent_t *agent = &cfg->agents[i];
        if (eligible[i] && sched_within_hours (cfg, agent, start, end)
            && sched_agent_free (&busy[i], start, end, agent->buffer_ms))
            return (int)i;
    }
    return -1;
}

bool
sched_pick (const sched_config_t *cfg, const int64_t *preferred, size_t preferred_count,
            int64_t duration_ms, const sched_busy_t *busy, const bool *eligible, size_t rr,
            sched_slot_t *slot)
{
    for (size_t p = 0; p < preferred_count; p++) {
        int agent =
            s_free_agent (cfg, preferred[p], preferred[p] + duration_ms, busy, eligible, rr);
        if (agent >= 0) {
            *slot = (sched_slot_t){preferred[p], preferred[p] + duration_ms, agent};
            return true;
        }
    }
    return false;
}

size_t
sched_alternatives (const sched_config_t *cfg, int64_t from, int64_t duration_ms,
                    const sched_busy_t *busy, const bool *eligible, size_t rr, sched_slot_t *out,
                    size_t max)
{
    size_t count = 0;
    int64_t step = cfg->slot_step_ms;
    int64_t t = (from + step - 1) / step * step;
    for (; t < from + cfg->horizon_ms && count < max; t += step) {
        int agent = s_free_agent (cfg, t, t + duration_ms, busy, eligible, rr);
        if (agent >= 0)
            out[count++] = (sched_slot_t){t, t + duration_ms, agent};
    }
    return count;
}
