//  Consumer-group state and delivery decisions. Pure: no sockets, no
//  store, no clock (callers pass now). The window is a doubly linked list
//  in offset order so that acks anywhere in it are O(1) and dispatch walks
//  it once, front to back, which is exactly the order per-subject ordering
//  needs.
#include "broker_group.h"
#include "zhub_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

broker_groups_t *
broker_groups_new (uint32_t window, uint64_t first_tag, uint64_t seed)
{
    broker_groups_t *self = zhub_calloc (1, sizeof *self);
    self->by_name = broker_map_new ();
    self->tags = broker_map_new ();
    self->seen = broker_map_new ();
    self->next_tag = first_tag ? first_tag : 1;
    self->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    self->window = window ? window : 1;
    return self;
}

static void
s_entry_free (broker_entry_t *entry)
{
    free (entry->subject);
    free (entry);
}

static void
s_group_free (broker_group_t *group)
{
    broker_entry_t *entry = group->head;
    while (entry) {
        broker_entry_t *next = entry->next;
        s_entry_free (entry);
        entry = next;
    }
    for (size_t i = 0; i < group->member_count; i++)
        free (group->members[i]);
    free (group->members);
    broker_settings_free (&group->settings);
    free (group->name);
    free (group->replica);
    free (group);
}

void
broker_groups_destroy (broker_groups_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_groups_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        s_group_free (self->list[i]);
    free (self->list);
    broker_map_destroy (&self->by_name);
    broker_map_destroy (&self->tags);
    broker_map_destroy (&self->seen);
    for (size_t i = 0; i < self->broadcast_count; i++)
        free (self->broadcast[i]);
    free (self->broadcast);
    free (self);
    *self_p = NULL;
}

void
broker_settings_free (broker_settings_t *settings)
{
    for (size_t i = 0; i < settings->pattern_count; i++)
        free (settings->patterns[i]);
    free (settings->patterns);
    settings->patterns = NULL;
    settings->pattern_count = 0;
}

void
broker_settings_copy (broker_settings_t *dest, const broker_settings_t *src)
{
    *dest = *src;
    dest->patterns = zhub_calloc (src->pattern_count ? src->pattern_count : 1, sizeof (char *));
    for (size_t i = 0; i < src->pattern_count; i++)
        dest->patterns[i] = zhub_strdup (src->patterns[i]);
}

broker_group_t *
broker_groups_find (broker_groups_t *self, const char *name)
{
    return broker_map_get_str (self->by_name, name);
}

void
broker_groups_set_broadcast (broker_groups_t *self, char *const *patterns, size_t count)
{
    self->broadcast = zhub_calloc (count ? count : 1, sizeof (char *));
    for (size_t i = 0; i < count; i++)
        self->broadcast[i] = zhub_strdup (patterns[i]);
    self->broadcast_count = count;
}

broker_group_t *
broker_groups_create (broker_groups_t *self, const char *name, const broker_settings_t *settings,
                      uint64_t floor, int64_t created_ms)
{
    broker_group_t *group = zhub_calloc (1, sizeof *group);
    group->name = zhub_strdup (name);
    group->broadcast = (const char *const *)self->broadcast;
    group->broadcast_count = self->broadcast_count;
    broker_settings_copy (&group->settings, settings);
    if (group->settings.max_deliveries == 0)
        group->settings.max_deliveries = 1;
    group->floor = group->floor_persisted = group->scan = floor ? floor : 1;
    group->needs_write = true;
    group->dirty = true;
    group->created_ms = created_ms;
    group->next_timer_ms = INT64_MAX;
    self->list = zhub_realloc (self->list, (self->count + 1) * sizeof (broker_group_t *));
    self->list[self->count++] = group;
    broker_map_put_str (self->by_name, group->name, group);
    return group;
}

int
broker_group_add_patterns (broker_group_t *self, char *const *patterns, size_t count)
{
    int added = 0;
    for (size_t i = 0; i < count; i++) {
        bool known = false;
        for (size_t j = 0; j < self->settings.pattern_count && !known; j++)
            known = strcmp (self->settings.patterns[j], patterns[i]) == 0;
        if (known)
            continue;
        if (self->settings.pattern_count == BROKER_MAX_PATTERNS)
            return -1;
        self->settings.patterns = zhub_realloc (
            self->settings.patterns, (self->settings.pattern_count + 1) * sizeof (char *));
        self->settings.patterns[self->settings.pattern_count++] = zhub_strdup (patterns[i]);
        added = 1;
    }
    if (added)
        self->needs_write = true;
    return added;
}

static bool
s_patterns_match (const broker_group_t *self, const char *topic)
{
    //  never a group's own dead letters: a consumer failing them would
    //  dead-letter its dead letters, without end
    if (!strncmp (topic, "dlq.", 4) && !strcmp (topic + 4, self->name))
        return false;
    for (size_t i = 0; i < self->settings.pattern_count; i++)
        if (zhub_topic_match (self->settings.patterns[i], topic))
            return true;
    return false;
}

static bool
s_broadcast (const broker_group_t *self, const char *topic)
{
    for (size_t i = 0; i < self->broadcast_count; i++)
        if (zhub_topic_match (self->broadcast[i], topic))
            return true;
    return false;
}

bool
broker_group_matches (const broker_group_t *self, const char *topic)
{
    if (self->replica)
        return self->parent && s_broadcast (self, topic) && s_patterns_match (self->parent, topic);
    return !s_broadcast (self, topic) && s_patterns_match (self, topic);
}

//  Do two patterns match some topic in common? Token by token: a ">"
//  takes whatever is left (one token or more), "*" any one token.
static bool
s_patterns_meet (const char *a, const char *b)
{
    while (*a && *b) {
        size_t a_len = strcspn (a, "."), b_len = strcspn (b, ".");
        bool a_rest = a_len == 1 && *a == '>', b_rest = b_len == 1 && *b == '>';
        if (a_rest || b_rest)
            return true;
        if (!((a_len == 1 && *a == '*') || (b_len == 1 && *b == '*'))
            && (a_len != b_len || memcmp (a, b, a_len)))
            return false;
        a += a_len + (a[a_len] == '.');
        b += b_len + (b[b_len] == '.');
    }
    return !*a && !*b;
}

bool
broker_group_takes_broadcast (const broker_group_t *self)
{
    if (self->replica)
        return false;
    for (size_t i = 0; i < self->settings.pattern_count; i++)
        for (size_t j = 0; j < self->broadcast_count; j++)
            if (s_patterns_meet (self->settings.patterns[i], self->broadcast[j]))
                return true;
    return false;
}

broker_group_t *
broker_groups_replica (broker_groups_t *self, broker_group_t *group, const char *replica,
                       uint64_t floor, int64_t created_ms)
{
    if (!broker_group_takes_broadcast (group))
        return NULL;
    char *name = zhub_sprintf ("%s~%s", group->name, replica);
    broker_group_t *found = broker_groups_find (self, name);
    if (!found) {
        broker_settings_t settings = group->settings;
        settings.patterns = NULL;
        settings.pattern_count = 0;
        found = broker_groups_create (self, name, &settings, floor, created_ms);
        found->replica = zhub_strdup (replica);
    }
    found->parent = group;
    free (name);
    return found;
}

void
broker_groups_link_replicas (broker_groups_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        broker_group_t *group = self->list[i];
        const char *tilde = strchr (group->name, '~');
        if (!tilde)
            continue;
        char parent[256];
        snprintf (parent, sizeof parent, "%.*s", (int)(tilde - group->name), group->name);
        free (group->replica);
        group->replica = zhub_strdup (tilde + 1);
        group->parent = broker_groups_find (self, parent);
    }
}

bool
broker_group_name_valid (const char *name)
{
    //  dlq.<group> must itself be a valid topic of at most 255 bytes
    return name && strlen (name) <= 128 && zhub_topic_valid (name);
}

bool
broker_pattern_valid (const char *pattern)
{
    if (!pattern || !*pattern || strlen (pattern) > ZHUB_MSG_MAX_TYPE)
        return false;
    //  A pattern is valid exactly when it matches some topic; build the
    //  most permissive topic for it ("x" per token, "x" for ">") and test.
    char topic[ZHUB_MSG_MAX_TYPE * 2 + 2];
    size_t used = 0;
    for (const char *p = pattern; *p; p++) {
        if (*p == '*' || *p == '>')
            topic[used++] = 'x';
        else
            topic[used++] = *p;
    }
    topic[used] = 0;
    return zhub_topic_valid (topic) && zhub_topic_match (pattern, topic);
}

broker_member_t *
broker_group_member (broker_group_t *self, void *client)
{
    for (size_t i = 0; i < self->member_count; i++)
        if (self->members[i]->client == client)
            return self->members[i];
    return NULL;
}

broker_member_t *
broker_groups_join (broker_groups_t *self, broker_group_t *group, void *client, uint32_t credit)
{
    (void)self;
    broker_member_t *member = broker_group_member (group, client);
    if (!member) {
        member = zhub_calloc (1, sizeof *member);
        member->client = client;
        member->group = group;
        group->members =
            zhub_realloc (group->members, (group->member_count + 1) * sizeof (broker_member_t *));
        group->members[group->member_count++] = member;
    }
    member->credit = credit ? credit : 1;
    group->dirty = true;
    return member;
}

//  Ends the entry's current delivery: forgets its tag and frees the
//  member's credit slot.
static void
s_release (broker_groups_t *self, broker_entry_t *entry)
{
    broker_group_t *group = entry->group;
    if (entry->state == BROKER_INFLIGHT) {
        broker_map_del_u64 (self->tags, entry->tag);
        entry->tag = 0;
        if (entry->member && entry->member->inflight)
            entry->member->inflight--;
        entry->member = NULL;
        group->inflight--;
        group->dirty = true;
    } else if (entry->state == BROKER_WAITING)
        group->waiting--;
    entry->state = BROKER_READY;
}

static void
s_remove_member (broker_group_t *group, broker_member_t *member, bool hand_back,
                 broker_groups_t *self)
{
    for (broker_entry_t *entry = group->head; entry; entry = entry->next) {
        if (entry->state != BROKER_INFLIGHT || entry->member != member)
            continue;
        if (hand_back)
            s_release (self, entry);
        else
            entry->member = NULL;
    }
    for (size_t i = 0; i < group->member_count; i++) {
        if (group->members[i] == member) {
            memmove (group->members + i, group->members + i + 1,
                     (group->member_count - i - 1) * sizeof (broker_member_t *));
            group->member_count--;
            break;
        }
    }
    free (member);
}

void
broker_groups_leave (broker_groups_t *self, broker_group_t *group, void *client)
{
    broker_member_t *member = broker_group_member (group, client);
    if (member)
        s_remove_member (group, member, true, self);
    for (size_t i = 0; i < self->count; i++) {
        broker_group_t *replica = self->list[i];
        if (replica->parent != group)
            continue;
        member = broker_group_member (replica, client);
        if (member)
            s_remove_member (replica, member, true, self);
    }
}

void
broker_groups_forget (broker_groups_t *self, void *client)
{
    for (size_t i = 0; i < self->count; i++) {
        broker_member_t *member = broker_group_member (self->list[i], client);
        if (member)
            s_remove_member (self->list[i], member, false, self);
    }
}

size_t
broker_groups_of (broker_groups_t *self, void *client, const char **names, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < self->count && count < max; i++)
        if (!self->list[i]->replica && broker_group_member (self->list[i], client))
            names[count++] = self->list[i]->name;
    return count;
}

bool
broker_group_has_room (const broker_groups_t *self, const broker_group_t *group)
{
    return group->count < self->window;
}

static void
s_timer (broker_group_t *group, int64_t when)
{
    if (when < group->next_timer_ms)
        group->next_timer_ms = when;
}

broker_entry_t *
broker_groups_push (broker_groups_t *self, broker_group_t *group, uint64_t offset,
                    const char *subject, uint32_t attempts, int64_t due_ms, int64_t now_ms)
{
    (void)self;
    broker_entry_t *entry = zhub_calloc (1, sizeof *entry);
    entry->group = group;
    entry->offset = offset;
    entry->subject = subject && *subject ? zhub_strdup (subject) : NULL;
    entry->attempts = attempts;
    if (due_ms > now_ms) {
        entry->state = BROKER_WAITING;
        entry->timer_ms = due_ms;
        group->waiting++;
        s_timer (group, due_ms);
    }
    entry->prev = group->tail;
    if (group->tail)
        group->tail->next = entry;
    else
        group->head = entry;
    group->tail = entry;
    group->count++;
    group->dirty = true;
    return entry;
}

static void
s_unlink (broker_entry_t *entry)
{
    broker_group_t *group = entry->group;
    if (entry->prev)
        entry->prev->next = entry->next;
    else
        group->head = entry->next;
    if (entry->next)
        entry->next->prev = entry->prev;
    else
        group->tail = entry->prev;
    group->count--;
    //  a removed entry may have blocked later ones of its subject
    group->dirty = true;
    s_entry_free (entry);
}

uint64_t
broker_group_update_floor (broker_group_t *self)
{
    uint64_t floor = self->head ? self->head->offset : self->scan;
    if (floor > self->floor) {
        self->floor = floor;
        //  the parent's members waiting for this replica's broadcasts may go on
        if (self->parent)
            self->parent->dirty = true;
    }
    return self->floor;
}

//  A member with free credit whose replica has no broadcast left below
//  offset (the barrier).
static broker_member_t *
s_pick_member (broker_group_t *group, uint64_t offset)
{
    for (size_t i = 0; i < group->member_count; i++) {
        size_t at = (group->rr + i) % group->member_count;
        broker_member_t *member = group->members[at];
        if (member->barrier && member->barrier->floor <= offset)
            continue;
        if (member->inflight < broker_member_window (member)) {
            group->rr = at + 1;
            return member;
        }
    }
    return NULL;
}

size_t
broker_groups_dispatch (broker_groups_t *self, broker_group_t *group, int64_t now_ms,
                        broker_assignment_t *out, size_t max)
{
    if (!group->dirty || max == 0)
        return 0;
    group->dirty = false;
    bool credit = false;
    for (size_t i = 0; i < group->member_count && !credit; i++)
        credit = group->members[i]->inflight < broker_member_window (group->members[i]);
    if (!credit)
        return 0; //  an ack, a CREDIT or a join marks the group dirty again
    size_t count = 0;
    broker_map_clear (self->seen);
    for (broker_entry_t *entry = group->head; entry; entry = entry->next) {
        if (entry->subject) {
            //  an earlier entry of this subject is still pending: wait
            if (broker_map_get_str (self->seen, entry->subject))
                continue;
            broker_map_put_str (self->seen, entry->subject, entry);
        }
        if (entry->state != BROKER_READY)
            continue;
        if (count == max) {
            group->dirty = true; //  more to do next round
            break;
        }
        broker_member_t *member = s_pick_member (group, entry->offset);
        if (!member)
            break; //  credit frees up (or a barrier lifts) later and marks the group dirty
        entry->state = BROKER_INFLIGHT;
        entry->member = member;
        entry->tag = self->next_tag++;
        entry->timer_ms = now_ms + group->settings.ack_deadline_ms;
        broker_map_put_u64 (self->tags, entry->tag, entry);
        member->inflight++;
        group->inflight++;
        group->delivered++;
        if (entry->attempts)
            group->redelivered++;
        s_timer (group, entry->timer_ms);
        out[count].entry = entry;
        out[count].member = member;
        count++;
    }
    return count;
}

void
broker_groups_undeliver (broker_groups_t *self, broker_entry_t *entry)
{
    broker_group_t *group = entry->group;
    if (entry->state != BROKER_INFLIGHT)
        return;
    group->delivered--;
    if (entry->attempts)
        group->redelivered--;
    s_release (self, entry);
}

broker_entry_t *
broker_groups_by_tag (broker_groups_t *self, uint64_t tag)
{
    return tag ? broker_map_get_u64 (self->tags, tag) : NULL;
}

void
broker_groups_ack (broker_groups_t *self, broker_entry_t *entry)
{
    s_release (self, entry);
    entry->group->acked++;
    s_unlink (entry);
}

void
broker_groups_fail (broker_groups_t *self, broker_entry_t *entry, int64_t now_ms, int64_t delay_ms,
                    bool terminal, broker_failure_t *out)
{
    broker_group_t *group = entry->group;
    s_release (self, entry);
    entry->attempts++;
    out->offset = entry->offset;
    out->attempts = entry->attempts;
    out->due_ms = 0;
    out->dead = terminal || entry->attempts >= group->settings.max_deliveries;
    if (out->dead) {
        group->dead_letters++;
        s_unlink (entry);
        return;
    }
    if (delay_ms < 0)
        delay_ms = broker_backoff_ms (group->settings.backoff_ms, group->settings.backoff_count,
                                      entry->attempts, broker_random (&self->rng));
    out->due_ms = now_ms + delay_ms;
    entry->timer_ms = out->due_ms;
    if (delay_ms > 0) {
        entry->state = BROKER_WAITING;
        group->waiting++;
        s_timer (group, entry->timer_ms);
    }
}

void
broker_groups_defer (broker_groups_t *self, broker_entry_t *entry, int64_t now_ms,
                     int64_t delay_ms, broker_failure_t *out)
{
    broker_group_t *group = entry->group;
    s_release (self, entry);
    out->offset = entry->offset;
    out->attempts = entry->attempts;
    out->dead = false;
    if (delay_ms < 0)
        delay_ms = BROKER_DEFER_DEFAULT_MS;
    out->due_ms = now_ms + delay_ms;
    entry->timer_ms = out->due_ms;
    if (delay_ms > 0) {
        entry->state = BROKER_WAITING;
        group->waiting++;
        s_timer (group, entry->timer_ms);
    }
}

size_t
broker_groups_tick (broker_groups_t *self, broker_group_t *group, int64_t now_ms,
                    broker_entry_t **expired, size_t max)
{
    (void)self;
    if (now_ms < group->next_timer_ms)
        return 0;
    int64_t next = INT64_MAX;
    size_t count = 0;
    for (broker_entry_t *entry = group->head; entry; entry = entry->next) {
        if (entry->state == BROKER_READY)
            continue;
        if (entry->timer_ms > now_ms) {
            next = entry->timer_ms < next ? entry->timer_ms : next;
            continue;
        }
        if (entry->state == BROKER_WAITING) {
            entry->state = BROKER_READY;
            group->waiting--;
            group->dirty = true;
        } else if (count < max)
            expired[count++] = entry;
        else
            next = now_ms; //  more expired than fit: look again next round
    }
    group->next_timer_ms = next;
    return count;
}

int64_t
broker_groups_next_timer (const broker_groups_t *self)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < self->count; i++)
        if (self->list[i]->next_timer_ms < next)
            next = self->list[i]->next_timer_ms;
    return next;
}

uint32_t
broker_member_window (const broker_member_t *member)
{
    uint32_t cap = member->group->settings.max_in_flight;
    return cap && cap < member->credit ? cap : member->credit;
}

static void
s_drop_window (broker_groups_t *self, broker_group_t *group)
{
    broker_entry_t *entry = group->head;
    while (entry) {
        broker_entry_t *next = entry->next;
        if (entry->state == BROKER_INFLIGHT)
            broker_map_del_u64 (self->tags, entry->tag);
        s_entry_free (entry);
        entry = next;
    }
    group->head = group->tail = NULL;
    group->count = group->inflight = group->waiting = 0;
    for (size_t m = 0; m < group->member_count; m++)
        group->members[m]->inflight = 0;
    group->next_timer_ms = INT64_MAX;
    group->dirty = true;
}

void
broker_groups_rewind (broker_groups_t *self, broker_group_t *group, uint64_t floor)
{
    s_drop_window (self, group);
    group->floor = group->scan = floor ? floor : 1;
}

void
broker_groups_reset (broker_groups_t *self)
{
    broker_map_clear (self->tags);
    for (size_t i = 0; i < self->count; i++) {
        broker_group_t *group = self->list[i];
        broker_entry_t *entry = group->head;
        while (entry) {
            broker_entry_t *next = entry->next;
            s_entry_free (entry);
            entry = next;
        }
        group->head = group->tail = NULL;
        group->count = group->inflight = group->waiting = 0;
        for (size_t m = 0; m < group->member_count; m++)
            group->members[m]->inflight = 0;
        group->floor = group->scan = group->floor_persisted;
        group->next_timer_ms = INT64_MAX;
        group->dirty = true;
    }
}

int64_t
broker_backoff_ms (const int64_t *schedule, size_t count, uint32_t attempts, double u)
{
    if (count == 0)
        return 0;
    size_t step = attempts ? attempts - 1 : 0;
    if (step >= count)
        step = count - 1;
    double factor = 0.8 + 0.4 * (u < 0 ? 0 : u >= 1 ? 0.999999 : u);
    return (int64_t)((double)schedule[step] * factor);
}

double
broker_random (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}
