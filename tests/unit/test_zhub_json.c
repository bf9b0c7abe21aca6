//  JSON -> msgpack fidelity: unicode, big integers, nesting, empty
//  containers, and clear refusal of malformed text.
#include "zhub_json.h"
#include "zhub_mpack.h"
#include "zhub_test.h"

#include <math.h>

//  Converts text and decodes the result; returns 0 on success.
static int
s_convert (const char *text, msgpack_unpacked *result, msgpack_sbuffer *sbuf, char *err)
{
    msgpack_sbuffer_init (sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, msgpack_sbuffer_write);
    if (zhub_json_text_to_mpack (text, strlen (text), &pk, NULL, err, 128))
        return -1;
    return zhub_mpack_decode ((const uint8_t *) sbuf->data, sbuf->size, NULL, result, err, 128);
}

static void
test_big_integers_keep_every_digit (void)
{
    msgpack_unpacked r;
    msgpack_sbuffer sbuf;
    char err[128];
    CHECK (s_convert ("[18446744073709551615, -9223372036854775808, 9223372036854775807, "
                      "3029365631, 0, -1]",
                      &r, &sbuf, err) == 0);
    const msgpack_object_array *a = &r.data.via.array;
    CHECK (a->ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER && a->ptr[0].via.u64 == UINT64_MAX);
    CHECK (a->ptr[1].type == MSGPACK_OBJECT_NEGATIVE_INTEGER && a->ptr[1].via.i64 == INT64_MIN);
    CHECK (a->ptr[2].via.u64 == INT64_MAX);
    CHECK (a->ptr[3].via.u64 == 3029365631ULL);
    CHECK (a->ptr[4].via.u64 == 0);
    CHECK (a->ptr[5].via.i64 == -1);
    msgpack_unpacked_destroy (&r);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_integers_beyond_uint64_become_floats (void)
{
    msgpack_unpacked r;
    msgpack_sbuffer sbuf;
    char err[128];
    CHECK (s_convert ("[18446744073709551616, 1.5, -2e3]", &r, &sbuf, err) == 0);
    const msgpack_object_array *a = &r.data.via.array;
    CHECK (a->ptr[0].type == MSGPACK_OBJECT_FLOAT64 && a->ptr[0].via.f64 == 18446744073709551616.0);
    CHECK (a->ptr[1].via.f64 == 1.5);
    CHECK (a->ptr[2].via.f64 == -2000.0);
    msgpack_unpacked_destroy (&r);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_unicode_is_exact (void)
{
    msgpack_unpacked r;
    msgpack_sbuffer sbuf;
    char err[128];
    //  raw UTF-8, \u escapes, a surrogate pair (U+1F600), escaped controls
    CHECK (s_convert ("{\"name\":\"José \\u00e9\\ud83d\\ude00 😀\",\"esc\":\"a\\\"b\\\\c\\/\\n\\t\"}",
                      &r, &sbuf, err) == 0);
    char *name = zhub_mpack_strdup (zhub_mpack_get (&r.data, "name"));
    CHECK_STR (name, "José é\xf0\x9f\x98\x80 😀");
    char *esc = zhub_mpack_strdup (zhub_mpack_get (&r.data, "esc"));
    CHECK_STR (esc, "a\"b\\c/\n\t");
    free (name);
    free (esc);
    msgpack_unpacked_destroy (&r);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_nesting_and_empty_containers (void)
{
    msgpack_unpacked r;
    msgpack_sbuffer sbuf;
    char err[128];
    CHECK (s_convert (" {\"a\":{},\"b\":[],\"c\":[[[{\"d\":[null,true,false,\"\"]}]]]} ", &r, &sbuf,
                      err) == 0);
    CHECK (zhub_mpack_get (&r.data, "a")->type == MSGPACK_OBJECT_MAP);
    CHECK (zhub_mpack_get (&r.data, "a")->via.map.size == 0);
    CHECK (zhub_mpack_get (&r.data, "b")->type == MSGPACK_OBJECT_ARRAY);
    CHECK (zhub_mpack_get (&r.data, "b")->via.array.size == 0);
    const msgpack_object *c = zhub_mpack_get (&r.data, "c");
    const msgpack_object *d = zhub_mpack_get (&c->via.array.ptr[0].via.array.ptr[0].via.array.ptr[0], "d");
    CHECK (d && d->via.array.size == 4 && d->via.array.ptr[0].type == MSGPACK_OBJECT_NIL);
    CHECK (d->via.array.ptr[3].type == MSGPACK_OBJECT_STR && d->via.array.ptr[3].via.str.size == 0);
    msgpack_unpacked_destroy (&r);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_key_order_is_preserved (void)
{
    msgpack_unpacked r;
    msgpack_sbuffer sbuf;
    char err[128];
    CHECK (s_convert ("{\"z\":1,\"a\":2,\"m\":3}", &r, &sbuf, err) == 0);
    CHECK (r.data.via.map.ptr[0].key.via.str.ptr[0] == 'z');
    CHECK (r.data.via.map.ptr[2].key.via.str.ptr[0] == 'm');
    msgpack_unpacked_destroy (&r);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_malformed_json_is_refused (void)
{
    const char *bad[] = {"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "nul", "01", "1.", "-",
                         "\"\\x\"", "\"\\ud83d\"", "\"\\ude00\"", "\"a\nb\"", "[1] x", "\"\xff\"",
                         "\"\xc0\xaf\"", "{1:2}", "[\"\\u12\"]", "1e", "+1",
                         "\"plain run then the end", "\"plain run\x01\"", NULL};
    for (int i = 0; bad[i]; i++) {
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        char err[128] = "";
        int rc = zhub_json_text_to_mpack (bad[i], strlen (bad[i]), &pk, NULL, err, sizeof err);
        if (rc != -1)
            fprintf (stderr, "  accepted bad JSON #%d: %s\n", i, bad[i]);
        CHECK (rc == -1);
        CHECK (strstr (err, "at byte") != NULL);
        msgpack_sbuffer_destroy (&sbuf);
    }
}

static void
test_depth_limit_is_enforced (void)
{
    char deep[300];
    for (int i = 0; i < 100; i++)
        deep[i] = '[';
    for (int i = 0; i < 100; i++)
        deep[100 + i] = ']';
    deep[200] = 0;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    CHECK (zhub_json_text_to_mpack (deep, strlen (deep), &pk, NULL, NULL, 0) == -1);
    zhub_json_limits_t limits = {.max_depth = 200};
    msgpack_sbuffer_clear (&sbuf);
    CHECK (zhub_json_text_to_mpack (deep, strlen (deep), &pk, &limits, NULL, 0) == 0);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_round_trip_through_jansson (void)
{
    msgpack_unpacked r;
    msgpack_sbuffer sbuf;
    char err[128];
    CHECK (s_convert ("{\"n\":42,\"s\":\"ñ\",\"l\":[1.25,null],\"o\":{\"t\":true}}", &r, &sbuf, err) == 0);
    json_t *json = zhub_json_from_mpack (&r.data);
    char *text = json_dumps (json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR (text, "{\"n\":42,\"s\":\"ñ\",\"l\":[1.25,null],\"o\":{\"t\":true}}");
    free (text);
    //  and back: json_t -> msgpack equals the direct conversion
    msgpack_sbuffer again;
    msgpack_sbuffer_init (&again);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &again, msgpack_sbuffer_write);
    zhub_json_pack (&pk, json);
    CHECK (again.size == sbuf.size && memcmp (again.data, sbuf.data, sbuf.size) == 0);
    msgpack_sbuffer_destroy (&again);
    json_decref (json);
    msgpack_unpacked_destroy (&r);
    msgpack_sbuffer_destroy (&sbuf);
}

int
main (void)
{
    RUN (test_big_integers_keep_every_digit);
    RUN (test_integers_beyond_uint64_become_floats);
    RUN (test_unicode_is_exact);
    RUN (test_nesting_and_empty_containers);
    RUN (test_key_order_is_preserved);
    RUN (test_malformed_json_is_refused);
    RUN (test_depth_limit_is_enforced);
    RUN (test_round_trip_through_jansson);
    TEST_EXIT ();
}
