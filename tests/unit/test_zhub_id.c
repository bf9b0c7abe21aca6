//  zhub_id: every derived id is what its call site computes today. The
//  expected values were printed by the call sites themselves
//  (contact_sync_synced_id, deal_sync_stage_msg, sched_booking_id,
//  sched_watch_name, zhub_provider_hash_id, broker_dlq_id,
//  dead_letter_replay_id) for the inputs below, and agree with Python's
//  hashlib: a caller that moves to zhub_id changes no id on the wire, no
//  dedup key and no stored key.
#include "zhub_id.h"
#include "zhub_msg.h"
#include "zhub_test.h"

#include <stdlib.h>

#define CAUSE "hubspot:evt-8841"

static void
test_digest_ids_match_todays_call_sites (void)
{
    char id[128];
    //  contact.synced (contact_sync_synced_id)
    CHECK (zhub_id_derive (id, sizeof id, "cs-", CAUSE, 16) == 0);
    CHECK_STR (id, "cs-7d8e3db3569fe32633fddba10a3f51c4");
    CHECK (zhub_id_derive (id, sizeof id, "cs-", "", 16) == 0);
    CHECK_STR (id, "cs-e3b0c44298fc1c149afbf4c8996fb924");
    CHECK (zhub_id_derive (id, sizeof id, "cs-", "bird:\xc3\xa7-\xc3\xb8-\xe2\x82\xac", 16) == 0);
    CHECK_STR (id, "cs-fee9f0e1fbf633d2c53907921f10d6ad");
    //  contact.synced of a batched write (contact_sync_batch.c)
    CHECK (zhub_id_derive (id, sizeof id, "cs-", CAUSE ":batch", 16) == 0);
    CHECK_STR (id, "cs-285613ca41ec654316c7f4222ddbd198");
    //  contact.reconciled: the synced id with its first letter made 'r'
    CHECK (zhub_id_derive (id, sizeof id, "rs-", CAUSE, 16) == 0);
    CHECK_STR (id, "rs-7d8e3db3569fe32633fddba10a3f51c4");
    //  deal.stage_changed (deal_sync_stage_msg)
    CHECK (zhub_id_derive (id, sizeof id, "ds-", CAUSE, 16) == 0);
    CHECK_STR (id, "ds-7d8e3db3569fe32633fddba10a3f51c4");
    //  a booking (sched_booking_id)
    CHECK (zhub_id_derive (id, sizeof id, "bk", CAUSE, 16) == 0);
    CHECK_STR (id, "bk7d8e3db3569fe32633fddba10a3f51c4");
    //  a calendar watch (sched_watch_name): 8 bytes
    CHECK (zhub_id_derive (id, sizeof id, "sub:google:", "ana@example.com", 8) == 0);
    CHECK_STR (id, "sub:google:8e43ca37701228e7");
    CHECK (zhub_id_derive (id, sizeof id, "sub:graph:", "ana@example.com", 8) == 0);
    CHECK_STR (id, "sub:graph:8e43ca37701228e7");
}

static void
test_part_ids_match_the_gateways (void)
{
    char id[128];
    const char *calendly[] = {"invitee.created",
                              "https://api.calendly.com/scheduled_events/E1/invitees/I1",
                              "2024-05-08T21:18:21.896Z"};
    CHECK (zhub_id_derive_parts (id, sizeof id, "calendly:", calendly, 3, 32) == 0);
    CHECK_STR (id, "calendly:331157b2525a62a85bd26811146b1810c41fe503f7ec837ecd163fb78bbc6365");
    //  a NULL part counts as empty (Graph's etag-less notifications)
    const char *graph[] = {"sub-1", "updated", NULL, "W/\"etag\"", "n-1"};
    CHECK (zhub_id_derive_parts (id, sizeof id, "graph:", graph, 5, 32) == 0);
    CHECK_STR (id, "graph:d7165c699abe658b1c1eaf67c72daaa40ae9ce96c98b7e33d7314a408ca4af15");
    const char *resource[] = {"Users/ana/Events/AAMk"};
    CHECK (zhub_id_derive_parts (id, sizeof id, "graph:resource:", resource, 1, 32) == 0);
    CHECK_STR (id,
               "graph:resource:8400b888d86850c807ffea3728fe6b958c4f13fa948f16dc473970ece9d6e279");
}

static void
test_bounded_ids_match_dead_letters_and_replays (void)
{
    char *id = zhub_id_bounded ("dlq:contact-sync:", CAUSE);
    CHECK_STR (id, "dlq:contact-sync:" CAUSE);
    free (id);
    char long_id[301];
    memset (long_id, 'x', 300);
    long_id[300] = 0;
    id = zhub_id_bounded ("dlq:contact-sync:", long_id);
    CHECK_STR (id, "dlq:contact-sync:h:c2f093e41879e412280bfcc0ed6533e4");
    free (id);
    id = zhub_id_bounded ("replay:2:", CAUSE);
    CHECK_STR (id, "replay:2:" CAUSE);
    free (id);
    id = zhub_id_bounded ("replay:2:", long_id);
    CHECK_STR (id, "replay:2:h:c2f093e41879e412280bfcc0ed6533e4");
    free (id);
    //  exactly ZHUB_MSG_MAX_ID bytes is kept whole; one more is hashed
    char edge[ZHUB_MSG_MAX_ID + 2];
    memset (edge, 'y', sizeof edge);
    edge[ZHUB_MSG_MAX_ID - 4] = 0;
    id = zhub_id_bounded ("dlq:", edge);
    CHECK (id && strlen (id) == ZHUB_MSG_MAX_ID && !strncmp (id + 4, edge, 10));
    free (id);
    edge[ZHUB_MSG_MAX_ID - 4] = 'y';
    edge[ZHUB_MSG_MAX_ID - 3] = 0;
    id = zhub_id_bounded ("dlq:", edge);
    CHECK (id && !strncmp (id, "dlq:h:", 6) && strlen (id) == 6 + 32);
    free (id);
}

static void
test_an_id_is_never_cut (void)
{
    char small[10] = "junk";
    CHECK (zhub_id_derive (small, sizeof small, "cs-", CAUSE, 16) == -1);
    CHECK_STR (small, "");
    char id[80];
    CHECK (zhub_id_derive (id, sizeof id, "cs-", CAUSE, 0) == -1);
    CHECK (zhub_id_derive (id, sizeof id, "cs-", CAUSE, ZHUB_ID_DIGEST_MAX + 1) == -1);
    CHECK (zhub_id_derive (id, sizeof id, "cs-", NULL, 16) == -1);
    CHECK (zhub_id_derive (id, sizeof id, "", CAUSE, ZHUB_ID_DIGEST_MAX) == 0);
    CHECK (strlen (id) == 64);
    char head[ZHUB_MSG_MAX_ID];
    memset (head, 'h', sizeof head - 1);
    head[sizeof head - 1] = 0;
    CHECK (zhub_id_bounded (head, "a long tail that makes it too long") == NULL);
    CHECK (zhub_id_bounded (NULL, CAUSE) == NULL);
}

int
main (void)
{
    RUN (test_digest_ids_match_todays_call_sites);
    RUN (test_part_ids_match_the_gateways);
    RUN (test_bounded_ids_match_dead_letters_and_replays);
    RUN (test_an_id_is_never_cut);
    TEST_EXIT ();
}
