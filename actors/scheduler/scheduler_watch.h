//  Calendar change subscriptions, the pure part. Nothing tells the
//  scheduler that a person moved or deleted a tour's event unless it asks:
//  Google Calendar wants a watch channel per calendar
//  (POST …/calendars/{id}/events/watch), Microsoft Graph a subscription
//  per mailbox (POST /subscriptions, which Graph proves with a
//  validationToken handshake against the gateway). Neither renews itself:
//  a channel is re-opened (and the old one stopped), a subscription
//  extended (PATCH), before it ends.
//
//  Here: the settings, the request bodies, reading the answers, the record
//  kept per calendar in LMDB and when to renew. No I/O; scheduler_watch_io.c
//  makes the calls and runs the durable renewal timers.
#ifndef SCHEDULER_WATCH_H
#define SCHEDULER_WATCH_H

#include "scheduler.h"

#define SCHED_GOOGLE_WATCH_TTL_MS (7LL * 86400 * 1000) //  channel lifetime we ask Google for
#define SCHED_GRAPH_SUB_MAX_MS (4230LL * 60 * 1000)    //  Graph's cap for Outlook events
#define SCHED_GRAPH_SUB_TTL_MS (4200LL * 60 * 1000)    //  what we ask for: 70 h, under the cap
#define SCHED_WATCH_MARGIN_MS (3600LL * 1000)          //  renew this long before the end
#define SCHED_WATCH_RETRY_MS 60000                     //  a failed attempt is tried again this soon
#define SCHED_WATCH_MIN_GAP_MS 1000                    //  a renewal is never due sooner than this
//  What a Graph subscription reports. The scheduler reads updates and
//  deletions; new events in a mailbox are none of its business.
#define SCHED_GRAPH_CHANGE_TYPES "updated,deleted"
#define SCHED_WATCH_NAME_BYTES 32      //  "sub:google:" + 16 hex digits + NUL
#define SCHED_GRAPH_LIST_MAX_PAGES 100 //  pages of GET /subscriptions read looking for ours
//  Graph's limit for a subscription's clientState: "The maximum length is
//  128 characters." (https://learn.microsoft.com/graph/api/resources/subscription)
#define SCHED_GRAPH_CLIENT_STATE_MAX 128

//  Read once at start (scheduler_watch_io.c), validated by
//  sched_watch_config_check. Strings point into the environment, but for
//  public_url, which the scheduler owns (its default is computed).
typedef struct {
    bool enabled;              //  ZHUB_CALENDAR_NOTIFICATIONS (on | off), default on
    const char *public_url;    //  ZHUB_PUBLIC_URL (default zhub_env_public_url): the gateway
                               //  as providers reach it
    bool public_url_default;   //  public_url is the default (from ZHUB_GATEWAY_LISTEN)
    const char *channel_token; //  ZHUB_GOOGLE_CHANNEL_TOKEN (secret), or NULL
    const char *client_state;  //  ZHUB_GRAPH_CLIENT_STATE (secret), or NULL
    int64_t google_ttl_ms;     //  ZHUB_GOOGLE_WATCH_TTL
    int64_t graph_ttl_ms;      //  ZHUB_GRAPH_SUBSCRIPTION_TTL (at most 4230 minutes)
    int64_t margin_ms;         //  ZHUB_CALENDAR_RENEW_MARGIN
    int64_t retry_ms;          //  ZHUB_CALENDAR_WATCH_RETRY
    bool used[2];              //  an agent's calendar is on the platform (SCHED_GOOGLE, _GRAPH)
    bool api_local[2];         //  the platform's API base URL is this machine (a stand-in)
} sched_watch_config_t;

//  0, or -1 with the offending variable in err: lifetimes above 0 (Graph's
//  at most 4230 minutes), a margin not below 0, a retry above 0, a public
//  URL that is http(s), a clientState of at most 128 characters; and, for
//  each platform that will get subscriptions (used and not off), what
//  Google and Graph accept as a notification address: an https:// public
//  URL (https://developers.google.com/calendar/api/guides/push,
//  https://learn.microsoft.com/graph/api/resources/subscription
//  notificationUrl), http:// only on this machine (127.0.0.1, localhost,
//  ::1, for a local run), and this machine only when the platform's API is
//  a local stand-in too (the real services cannot reach it).
int sched_watch_config_check (const sched_watch_config_t *w, char *err, size_t err_size);

//  Why a platform gets no subscriptions (a phrase for the log), or NULL
//  when it does: switched off, or no secret to prove the notifications
//  are ours (the gateway refuses them without one).
const char *sched_watch_off_reason (const sched_watch_config_t *w, sched_platform_t platform);

//  True when an agent on platform uses target as its calendar.
bool sched_watch_wanted (const sched_config_t *cfg, sched_platform_t platform, const char *target);

//  "{public_url}/v1/webhooks/google" or ".../graph" (trailing slashes of
//  the URL dropped). Fresh string.
char *sched_watch_address (const char *public_url, sched_platform_t platform);

//  The timer name and store key of one calendar's subscription:
//  "sub:<platform>:<16 hex digits of SHA-256(target)>", so that any
//  calendar id fits a key. out holds SCHED_WATCH_NAME_BYTES.
void sched_watch_name (sched_platform_t platform, const char *target, char *out, size_t out_size);

//  A version 4 UUID made of 16 random bytes: Google's channel ids must be
//  unique per channel. out holds 37 bytes.
void sched_watch_uuid (const uint8_t random[16], char *out, size_t out_size);

//  When to renew something that ends at expires_at, asked at now: margin
//  before the end, but never before half of what is left (short lifetimes
//  still get time to work), and never sooner than SCHED_WATCH_MIN_GAP_MS
//  from now (an answer with an expiration in the past must not make a
//  loop of calls).
int64_t sched_watch_renew_at (int64_t now, int64_t expires_at, int64_t margin_ms);

//  -------------------------------------------------------------------
//  The record kept per calendar (table "watches", key sched_watch_name)

typedef struct {
    sched_platform_t platform;
    char *target;      //  Google calendar id, or Graph mailbox
    char *id;          //  channel or subscription id; NULL until one is made
    char *resource_id; //  Google's resourceId (stopping a channel needs it)
    char *address;     //  where it delivers
    int64_t expires_at;
    int64_t timer_due; //  the one renewal timer armed for it (0: none)
} sched_watch_t;

char *sched_watch_encode (const sched_watch_t *w);
//  0, or -1 when text is not a record (w cleared).
int sched_watch_decode (const char *text, size_t size, sched_watch_t *w);
void sched_watch_clear (sched_watch_t *w);

//  At start: when the renewal timer of this calendar must be armed (now),
//  or -1 when the one armed already stands. A record with no timer, or one
//  that delivers to another address (ZHUB_PUBLIC_URL changed) or to none
//  yet (never made), is due now.
int64_t sched_watch_arm_due (const sched_watch_t *w, const char *address, int64_t now);

//  -------------------------------------------------------------------
//  Google watch channels

//  events.watch body: {"id","type":"web_hook","address","token","expiration"}.
json_t *sched_google_watch_body (const char *channel_id, const char *address, const char *token,
                                 int64_t expires_at);

//  channels.stop body: {"id","resourceId"}.
json_t *sched_google_stop_body (const char *channel_id, const char *resource_id);

//  Reads a watch answer: resourceId (required) and expiration (ms as a
//  string or a number; absent: the one asked for). 0, or -1.
int sched_google_watch_read (const json_t *answer, int64_t asked, char **resource_id,
                             int64_t *expires_at);

//  -------------------------------------------------------------------
//  Graph subscriptions

//  "/users/{mailbox}/events".  Fresh string.
char *sched_graph_events_resource (const char *mailbox);

//  POST /subscriptions body: {"changeType","notificationUrl","resource",
//  "expirationDateTime","clientState"}.
json_t *sched_graph_subscription_body (const char *mailbox, const char *address,
                                       const char *client_state, int64_t expires_at);

//  PATCH /subscriptions/{id} body: {"expirationDateTime"}.
json_t *sched_graph_renew_body (int64_t expires_at);

//  Reads a subscription (create or renew answer): id (required) and
//  expirationDateTime (absent: the one asked for). 0, or -1.
int sched_graph_subscription_read (const json_t *answer, int64_t asked, char **id,
                                   int64_t *expires_at);

//  The subscription in a GET /subscriptions answer that already watches
//  this mailbox's events for address (one made by an attempt whose answer
//  was lost), or NULL. Borrowed from answer.
const json_t *sched_graph_subscription_find (const json_t *answer, const char *mailbox,
                                             const char *address);

#endif
