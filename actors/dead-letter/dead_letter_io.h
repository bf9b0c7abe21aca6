//  zhub-dead-letter's I/O side: the bus handlers (keep a dead letter; apply
//  an operator's replay, edit or purge command; forget a person), the
//  /metrics listener and
//  the alert sender. The decisions are in dead_letter.c; this file does the
//  store transactions, the outbox and the HTTP.
#ifndef DEAD_LETTER_IO_H
#define DEAD_LETTER_IO_H

#include "dead_letter.h"
#include "dead_letter_store.h"
#include "zhub_actor.h"

#include <pthread.h>

#define DEAD_LETTER_METRIC_GROUPS 64         //  groups counted by name; the rest as "other"
#define DEAD_LETTER_ALERT_BURST_MS 10000     //  ZHUB_ALERT_BURST default
#define DEAD_LETTER_ALERT_INTERVAL_MS 300000 //  ZHUB_ALERT_INTERVAL default
#define DEAD_LETTER_ALERT_TIMEOUT_MS 5000    //  one webhook POST

typedef struct {
    //  Configuration (read once by dead_letter_config_load)
    char *webhook_url;         //  ZHUB_ALERT_WEBHOOK_URL (secret: never logged)
    int64_t alert_burst_ms;    //  ZHUB_ALERT_BURST
    int64_t alert_interval_ms; //  ZHUB_ALERT_INTERVAL
    char *metrics_listen;      //  ZHUB_DEAD_LETTER_METRICS_LISTEN host:port, NULL = off

    dead_letter_store_t *letters; //  over the actor's store (dead_letter_open)

    //  Shared with the metrics and alert threads, under lock
    pthread_mutex_t lock;
    dead_letter_alert_t alert;
    struct {
        char name[129];
        uint64_t count;
    } groups[DEAD_LETTER_METRIC_GROUPS];
    size_t group_count;
    uint64_t other_groups, replays, edits, purged, alerts_sent, alerts_failed;
    uint64_t forgotten; //  letters deleted by contact.forget

    pthread_t alert_thread;
    bool alert_running;
    volatile bool stop;
    void *daemon; //  struct MHD_Daemon *
} dead_letter_actor_t;

//  Reads ZHUB_ALERT_* and ZHUB_DEAD_LETTER_METRICS_LISTEN. Returns 0, or -1
//  with the offending variable in err.
int dead_letter_config_load (dead_letter_actor_t *self, char *err, size_t err_size);

//  Logs the configuration, the webhook URL masked.
void dead_letter_config_log (const dead_letter_actor_t *self);

//  zhub_actor_spec_t.open and .close: the dead-letter store over the
//  actor's (dead_letter_store.h).
int dead_letter_open (zhub_actor_ctx_t *ctx);
void dead_letter_close (zhub_actor_ctx_t *ctx);

//  Starts the /metrics listener (when configured) and the alert thread
//  (when a webhook is configured). Returns 0, or -1 with a reason in err.
int dead_letter_services_start (dead_letter_actor_t *self, char *err, size_t err_size);

//  Stops both; frees the configuration. Idempotent.
void dead_letter_services_stop (dead_letter_actor_t *self);

//  The Prometheus text of the counters (fresh heap string).
char *dead_letter_metrics_text (dead_letter_actor_t *self);

//  Route handlers (main.c's route table). `dlq.>`: keeps a dead letter.
//  The operator's commands (ADR 0004), each applied once (a letter
//  remembers the last command id applied to it): `dead-letter.command.replay`
//  {letter, again?} queues the replay in the outbox in the transaction that
//  records it; `.edit` {letter, revision, message (bytes)} replaces the
//  message to replay unless someone edited it since (revision); `.purge`
//  {letters[]} deletes letters. A command that names no letter is
//  rejected; one whose letter is gone, or whose other inputs are wrong, is
//  acked with that result (not_found, invalid, stale) in the log.
void dead_letter_handle_dlq (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                             zhub_outcome_t *out);
void dead_letter_handle_replay (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out);
void dead_letter_handle_edit (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                              zhub_outcome_t *out);
void dead_letter_handle_purge (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                               zhub_outcome_t *out);

//  `contact.forget` (GDPR erase): deletes every letter that mentions the
//  person (dead_letter_store_forget) and queues contact.forgotten in the
//  same transaction, then asks the runtime to compact the store. A repeat
//  removes 0 and answers again under the same id.
void dead_letter_handle_forget (zhub_actor_ctx_t *ctx, const zhub_actor_event_t *ev,
                                zhub_outcome_t *out);

#endif
