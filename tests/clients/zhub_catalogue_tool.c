//  The event catalogue (proto/zhub_catalogue.c) for clients written in
//  other languages, and its check for their tests. The table in C stays the
//  one source of truth: the Python client's typed events are generated from
//  `--json` (clients/python/tools/gen_catalogue.py), a test compares what
//  is checked in with what this prints now, and the envelopes the Python
//  helpers build are held to zhub_event_check_msg with `--check`.
//
//    zhub_catalogue_tool --json           every entry as one JSON array
//    zhub_catalogue_tool --check FILE...  each FILE holds one envelope
//                                         (msgpack); one JSON line per file:
//                                         {"file", "ok", "rc", "reason"}
//
//  Exit status: 0 when it could do what was asked (whatever the checks
//  found), 2 on bad usage or a file it cannot read.
#include "zhub_catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
s_kind (zhub_field_kind_t kind)
{
    switch (kind) {
        case ZHUB_FIELD_STRING: return "string";
        case ZHUB_FIELD_ID: return "id";
        case ZHUB_FIELD_INTEGER: return "integer";
        case ZHUB_FIELD_NUMBER: return "number";
        case ZHUB_FIELD_BOOLEAN: return "boolean";
        case ZHUB_FIELD_TIME: return "time";
        case ZHUB_FIELD_ENUM: return "enum";
        case ZHUB_FIELD_OBJECT: return "object";
        case ZHUB_FIELD_ARRAY: return "array";
        case ZHUB_FIELD_BYTES: return "bytes";
    }
    return NULL;
}

static json_t *
s_field (const zhub_field_t *field)
{
    char described[300];
    zhub_field_describe (field, described, sizeof described);
    json_t *out = json_pack ("{s:s, s:s, s:b, s:s, s:s}", "name", field->name, "kind",
                             s_kind (field->kind), "required", field->required, "about",
                             field->about, "described", described);
    if (field->kind == ZHUB_FIELD_ARRAY)
        json_object_set_new (out, "item", json_string (s_kind (field->item)));
    if (field->bounded) {
        json_object_set_new (out, "min", json_real (field->min));
        json_object_set_new (out, "max", json_real (field->max));
    }
    if (field->kind == ZHUB_FIELD_ENUM) {
        json_t *values = json_array ();
        for (size_t i = 0; field->values && field->values[i]; i++)
            json_array_append_new (values, json_string (field->values[i]));
        json_object_set_new (out, "values", values);
    }
    return out;
}

static int
s_dump (void)
{
    size_t count;
    const zhub_event_spec_t *all = zhub_catalogue (&count);
    json_t *entries = json_array ();
    for (size_t i = 0; i < count; i++) {
        const zhub_event_spec_t *spec = &all[i];
        json_t *fields = json_array ();
        for (const zhub_field_t *f = spec->fields; f->name; f++)
            json_array_append_new (fields, s_field (f));
        json_t *example = json_loads (spec->example, 0, NULL);
        json_t *entry = json_pack (
            "{s:s, s:s?, s:s?, s:s, s:s, s:o, s:b, s:s, s:s, s:o}", "type", spec->type, "pattern",
            spec->pattern, "example_type", spec->example_type, "subject", spec->subject, "about",
            spec->about, "fields", fields, "closed", spec->closed, "producers", spec->producers,
            "consumers", spec->consumers, "example", example ? example : json_null ());
        json_array_append_new (entries, entry);
    }
    char *text = json_dumps (entries, JSON_INDENT (1) | JSON_PRESERVE_ORDER);
    json_decref (entries);
    if (!text)
        return 2;
    puts (text);
    free (text);
    return 0;
}

static uint8_t *
s_read (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    size_t cap = 65536, used = 0, got;
    uint8_t *buf = malloc (cap);
    while (buf && (got = fread (buf + used, 1, cap - used, file)) > 0) {
        used += got;
        if (used == cap)
            buf = realloc (buf, cap *= 2);
    }
    fclose (file);
    *size = used;
    return buf;
}

static int
s_check (int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        size_t size = 0;
        uint8_t *bytes = s_read (argv[i], &size);
        if (!bytes) {
            fprintf (stderr, "zhub_catalogue_tool: cannot read %s\n", argv[i]);
            return 2;
        }
        char reason[512] = "";
        const char *rc = "OK";
        zhub_msg_t *msg = zhub_msg_decode (bytes, size, &zhub_msg_publish_limits, reason,
                                           sizeof reason);
        if (!msg)
            rc = "INVALID";
        else {
            zhub_rc_t checked = zhub_event_check_msg (msg, reason, sizeof reason);
            rc = checked == ZHUB_OK         ? "OK"
                 : checked == ZHUB_NOTFOUND ? "NOTFOUND"
                                            : "REJECT";
        }
        json_t *line = json_pack ("{s:s, s:b, s:s, s:s}", "file", argv[i], "ok", !strcmp (rc, "OK"),
                                  "rc", rc, "reason", reason);
        char *text = json_dumps (line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        puts (text);
        free (text);
        json_decref (line);
        zhub_msg_destroy (&msg);
        free (bytes);
    }
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc == 2 && !strcmp (argv[1], "--json"))
        return s_dump ();
    if (argc >= 2 && !strcmp (argv[1], "--check"))
        return s_check (argc - 2, argv + 2);
    fprintf (stderr, "usage: zhub_catalogue_tool --json | --check FILE...\n");
    return 2;
}
