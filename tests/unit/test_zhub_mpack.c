//  Safe msgpack decoding: hostile headers are refused before msgpack-c
//  allocates for them; well-formed input within limits decodes.
#include "zhub_mpack.h"
#include "zhub_test.h"

static void
test_wellformed_map_decodes (void)
{
    const uint8_t buf[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x92, 0xc3, 0xc0};
    msgpack_unpacked result;
    CHECK (zhub_mpack_decode (buf, sizeof buf, NULL, &result, NULL, 0) == 0);
    int64_t a;
    CHECK (zhub_mpack_int (zhub_mpack_get (&result.data, "a"), &a) == 0 && a == 1);
    CHECK (zhub_mpack_get (&result.data, "b")->via.array.size == 2);
    CHECK (zhub_mpack_get (&result.data, "c") == NULL);
    msgpack_unpacked_destroy (&result);
}

static void
test_huge_declared_array_is_refused (void)
{
    //  array32 declaring 4 billion elements in five bytes
    const uint8_t buf[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    char err[128];
    CHECK (zhub_mpack_check (buf, sizeof buf, NULL, err, sizeof err) == -1);
    CHECK (strstr (err, "count exceeds input") != NULL);
}

static void
test_huge_declared_string_is_refused (void)
{
    const uint8_t buf[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'x'};
    CHECK (zhub_mpack_check (buf, sizeof buf, NULL, NULL, 0) == -1);
}

static void
test_truncated_input_is_refused (void)
{
    const uint8_t buf[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b'};
    CHECK (zhub_mpack_check (buf, sizeof buf, NULL, NULL, 0) == -1);
    const uint8_t number[] = {0xcf, 0x00, 0x01};
    CHECK (zhub_mpack_check (number, sizeof number, NULL, NULL, 0) == -1);
}

static void
test_trailing_bytes_are_refused (void)
{
    const uint8_t buf[] = {0x01, 0x02};
    CHECK (zhub_mpack_check (buf, sizeof buf, NULL, NULL, 0) == -1);
}

static void
test_reserved_byte_is_refused (void)
{
    const uint8_t buf[] = {0x91, 0xc1};
    CHECK (zhub_mpack_check (buf, sizeof buf, NULL, NULL, 0) == -1);
}

static void
test_depth_limit_holds (void)
{
    uint8_t buf[100];
    for (int i = 0; i < 99; i++)
        buf[i] = 0x91;
    buf[99] = 0x00;
    zhub_mpack_limits_t limits = {.max_size = 1000, .max_depth = 32, .max_items = 1000};
    CHECK (zhub_mpack_check (buf, sizeof buf, &limits, NULL, 0) == -1);
    limits.max_depth = 100;
    CHECK (zhub_mpack_check (buf, sizeof buf, &limits, NULL, 0) == 0);
}

static void
test_size_and_item_limits_hold (void)
{
    uint8_t buf[11] = {0x9a};
    zhub_mpack_limits_t limits = {.max_size = 1000, .max_depth = 4, .max_items = 5};
    CHECK (zhub_mpack_check (buf, sizeof buf, &limits, NULL, 0) == -1);
    limits.max_items = 11;
    CHECK (zhub_mpack_check (buf, sizeof buf, &limits, NULL, 0) == 0);
    limits.max_size = 10;
    CHECK (zhub_mpack_check (buf, sizeof buf, &limits, NULL, 0) == -1);
}

static void
test_every_truncation_of_a_valid_object_is_refused (void)
{
    //  {"id": "x", "n": 2^40, "f": 1.5, "bin": <3 bytes>, "ext": fixext1}
    const uint8_t buf[] = {0x85, 0xa2, 'i', 'd', 0xa1, 'x', 0xa1, 'n', 0xcf, 0, 0, 1, 0, 0, 0, 0, 0,
                           0xa1, 'f', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa3, 'b', 'i', 'n',
                           0xc4, 3, 1, 2, 3, 0xa3, 'e', 'x', 't', 0xd4, 1, 9};
    CHECK (zhub_mpack_check (buf, sizeof buf, NULL, NULL, 0) == 0);
    for (size_t cut = 1; cut < sizeof buf; cut++)
        CHECK (zhub_mpack_check (buf, cut, NULL, NULL, 0) == -1);
}

static void
test_random_bytes_never_crash (void)
{
    //  a tiny fuzz loop: whatever the bytes, check+decode return cleanly
    uint32_t seed = 12345;
    uint8_t buf[64];
    for (int round = 0; round < 20000; round++) {
        size_t size = 1 + (seed % sizeof buf);
        for (size_t i = 0; i < size; i++) {
            seed = seed * 1103515245 + 12345;
            buf[i] = (uint8_t) (seed >> 16);
        }
        msgpack_unpacked result;
        if (zhub_mpack_decode (buf, size, NULL, &result, NULL, 0) == 0)
            msgpack_unpacked_destroy (&result);
    }
    CHECK (1);
}

int
main (void)
{
    RUN (test_wellformed_map_decodes);
    RUN (test_huge_declared_array_is_refused);
    RUN (test_huge_declared_string_is_refused);
    RUN (test_truncated_input_is_refused);
    RUN (test_trailing_bytes_are_refused);
    RUN (test_reserved_byte_is_refused);
    RUN (test_depth_limit_holds);
    RUN (test_size_and_item_limits_hold);
    RUN (test_every_truncation_of_a_valid_object_is_refused);
    RUN (test_random_bytes_never_crash);
    TEST_EXIT ();
}
