//  Microsoft Graph change notifications. Graph proves a subscription by
//  POSTing ?validationToken=… (text/plain) and expecting the token back
//  within 10 s; that is answered before the body is read. A delivery is a
//  batch; each notification carries the clientState we chose when
//  subscribing. Per the docs a notification whose clientState does not
//  match is dropped — the others of the batch still count — and a request
//  where none matches is refused (401), so a forger learns nothing from a
//  partial success. clientState is a secret: it is removed from the data.
//
//  Graph sends no event id: the id hashes what names the change
//  (subscription, change type, resource, the resource's etag, the
//  notification id), which a retry repeats. The subject is the resource.
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  The validation POST is text/plain; deliveries are application/json.
static bool
s_content_type_ok (const char *value)
{
    while (value && (*value == ' ' || *value == '\t'))
        value++;
    return value
           && (!strncasecmp (value, "application/json", 16)
               || !strncasecmp (value, "text/plain", 10));
}

static zhub_rc_t
s_handshake (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, zhub_handshake_t *reply)
{
    (void)opts;
    char *token = zhub_provider_query (hook->url, "validationToken");
    if (!token)
        return ZHUB_NOTFOUND;
    reply->content_type = "text/plain";
    if (strcmp (hook->method, "POST") || !*token || strlen (token) > ZHUB_GRAPH_TOKEN_MAX) {
        reply->status = 400;
        reply->body = zhub_strdup ("bad validation request\n");
        free (token);
    } else {
        reply->status = 200;
        reply->body = token;
    }
    return ZHUB_OK;
}

//  True when the notification's clientState is one of ours.
static bool
s_ours (const msgpack_object *notification, const zhub_verify_opts_t *opts)
{
    const msgpack_object *state = zhub_mpack_get (notification, "clientState");
    if (!opts || !state || state->type != MSGPACK_OBJECT_STR)
        return false;
    return zhub_provider_secret_match (state->via.str.ptr, state->via.str.size, opts->secret,
                                       opts->previous);
}

static const msgpack_object *
s_notifications (const msgpack_unpacked *body)
{
    const msgpack_object *value = zhub_mpack_get (&body->data, "value");
    return body->data.type == MSGPACK_OBJECT_MAP && value && value->type == MSGPACK_OBJECT_ARRAY
               ? value
               : NULL;
}

static zhub_rc_t
s_verify (const zhub_webhook_t *hook, const zhub_verify_opts_t *opts, char *why, size_t why_size)
{
    if (!opts->secret || !*opts->secret)
        return zhub_provider_reject (why, why_size, "secret_unset");
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    char err[160];
    zhub_rc_t rc = zhub_provider_reject (why, why_size, "signature_mismatch");
    if (zhub_provider_json_body (hook, &sbuf, &body, err, sizeof err))
        rc = zhub_provider_reject (why, why_size, "malformed_body");
    else {
        const msgpack_object *list = s_notifications (&body);
        for (uint32_t i = 0; list && i < list->via.array.size; i++)
            if (s_ours (&list->via.array.ptr[i], opts))
                rc = ZHUB_OK;
        if (!list)
            rc = zhub_provider_reject (why, why_size, "missing_signature");
    }
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

//  The notification without clientState, as data.
static void
s_set_data (zhub_msg_t *msg, const msgpack_object *notification)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    const msgpack_object_map *map = &notification->via.map;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < map->size; i++)
        keep += !zhub_mpack_str_eq (&map->ptr[i].key, "clientState");
    msgpack_pack_map (&pk, keep);
    for (uint32_t i = 0; i < map->size; i++)
        if (!zhub_mpack_str_eq (&map->ptr[i].key, "clientState")) {
            msgpack_pack_object (&pk, map->ptr[i].key);
            msgpack_pack_object (&pk, map->ptr[i].val);
        }
    zhub_msg_set_data (msg, (const uint8_t *)sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
}

static int
s_notification (const zhub_webhook_t *hook, const msgpack_object *n, uint32_t index,
                zhub_msg_list_t *list, char *why, size_t why_size)
{
    char *subscription = zhub_provider_str (n, "subscriptionId");
    char *change = zhub_provider_str (n, "changeType");
    char *lifecycle = zhub_provider_str (n, "lifecycleEvent");
    char *resource = zhub_provider_str (n, "resource");
    char *id = zhub_provider_str (n, "id");
    char *etag = zhub_provider_str (zhub_mpack_get (n, "resourceData"), "@odata.etag");
    char *type = NULL, *text = NULL;
    int rc = -1;
    if (!subscription || (!change && !lifecycle)) {
        snprintf (why, why_size, "notification %u has no subscriptionId or changeType", index);
        goto done;
    }
    type = change ? zhub_sprintf ("webhook.graph.%s", change)
                  : zhub_sprintf ("webhook.graph.lifecycle.%s", lifecycle);
    if (!zhub_topic_valid (type) || strchr (change ? change : lifecycle, '.')) {
        snprintf (why, why_size, "notification %u: changeType is not a plain word", index);
        goto done;
    }
    zhub_msg_t *msg = zhub_msg_new ();
    zhub_msg_set (&msg->source, "graph");
    zhub_msg_set (&msg->type, type);
    const char *parts[] = {subscription, change ? change : lifecycle, resource, etag, id};
    text = zhub_provider_hash_id ("graph:", parts, 5);
    zhub_msg_set (&msg->id, text);
    free (text);
    if (resource && strlen (resource) <= ZHUB_MSG_MAX_ID - 6)
        text = zhub_sprintf ("graph:%s", resource);
    else {
        const char *by[] = {resource ? resource : subscription};
        text = zhub_provider_hash_id ("graph:resource:", by, 1);
    }
    zhub_msg_set (&msg->subject, text);
    free (text);
    text = NULL;
    msg->time_ms = hook->now_ms;
    s_set_data (msg, n);
    char err[128];
    if (zhub_msg_validate (msg, err, sizeof err)) {
        snprintf (why, why_size, "notification %u: %s", index, err);
        zhub_msg_destroy (&msg);
        goto done;
    }
    zhub_msg_list_push (list, &msg);
    rc = 0;
done:
    free (subscription);
    free (change);
    free (lifecycle);
    free (resource);
    free (id);
    free (etag);
    free (type);
    return rc;
}

static zhub_rc_t
s_parse (const zhub_webhook_t *hook, zhub_msg_list_t *out, char *why, size_t why_size)
{
    msgpack_sbuffer sbuf;
    msgpack_unpacked body;
    zhub_rc_t rc = ZHUB_REJECT;
    zhub_msg_list_t list = {0};
    if (zhub_provider_json_body (hook, &sbuf, &body, why, why_size))
        goto done;
    const msgpack_object *notifications = s_notifications (&body);
    if (!notifications) {
        snprintf (why, why_size, "body must be an object with a value array");
        goto done;
    }
    for (uint32_t i = 0; i < notifications->via.array.size; i++) {
        const msgpack_object *n = &notifications->via.array.ptr[i];
        if (n->type != MSGPACK_OBJECT_MAP) {
            snprintf (why, why_size, "notification %u is not an object", i);
            goto done;
        }
        if (!s_ours (n, hook->opts))
            continue; //  dropped, as Graph's docs ask
        if (s_notification (hook, n, i, &list, why, why_size))
            goto done;
    }
    zhub_msg_list_move (out, &list);
    rc = ZHUB_OK;
done:
    zhub_msg_list_clear (&list);
    zhub_provider_json_body_destroy (&sbuf, &body);
    return rc;
}

const zhub_provider_t zhub_provider_graph = {
    .name = "graph",
    .content_type_ok = s_content_type_ok,
    .handshake = s_handshake,
    .default_max_age_ms = ZHUB_GRAPH_MAX_AGE_MS,
    .default_max_future_ms = ZHUB_GRAPH_MAX_FUTURE_MS,
    .verify = s_verify,
    .parse = s_parse,
};
