//  Clocks, RFC 3339, constant-time compare, durations, string lists.
#include "zhub_common.h"
#include "zhub_strlist.h"
#include "zhub_env.h"
#include "zhub_url.h"
#include "zhub_log.h"
#include "zhub_test.h"

static void
test_rfc3339_round_trip (void)
{
    char buf[32];
    zhub_time_format (1715203101896LL, buf, sizeof buf);
    CHECK_STR (buf, "2024-05-08T21:18:21.896Z");
    int64_t ms;
    CHECK (zhub_time_parse (buf, &ms) == 0 && ms == 1715203101896LL);
    CHECK (zhub_time_parse ("2023-12-13T19:34:01.858Z", &ms) == 0 && ms == 1702496041858LL);
    CHECK (zhub_time_parse ("2020-11-23T17:51:19.000000Z", &ms) == 0 && ms == 1606153879000LL);
    CHECK (zhub_time_parse ("2024-05-08T15:18:21-06:00", &ms) == 0 && ms == 1715203101000LL);
    CHECK (zhub_time_parse ("2024-05-08", &ms) == -1);
    CHECK (zhub_time_parse ("2024-13-08T00:00:00Z", &ms) == -1);
    CHECK (zhub_time_parse ("garbage", &ms) == -1);
    CHECK (zhub_time_parse (NULL, &ms) == -1);
}

static void
test_secure_equal (void)
{
    CHECK (zhub_secure_equal ("abc", 3, "abc", 3));
    CHECK (!zhub_secure_equal ("abc", 3, "abd", 3));
    CHECK (!zhub_secure_equal ("abc", 3, "abcd", 4));
    CHECK (zhub_secure_equal ("", 0, "", 0));
}

static void
test_uuids (void)
{
    CHECK (zhub_is_uuid ("a1405560-c8d3-4b1a-877d-3f449ad95352"));
    CHECK (zhub_is_uuid ("A1405560-C8D3-4B1A-877D-3F449AD95352"));
    CHECK (zhub_is_uuid ("00000000-0000-0000-0000-000000000000"));
    CHECK (!zhub_is_uuid (NULL));
    CHECK (!zhub_is_uuid (""));
    CHECK (!zhub_is_uuid ("local-workspace"));
    CHECK (!zhub_is_uuid ("ch-whatsapp"));
    CHECK (!zhub_is_uuid ("a1405560c8d34b1a877d3f449ad95352"));      //  no dashes
    CHECK (!zhub_is_uuid ("a1405560-c8d3-4b1a-877d-3f449ad9535"));   //  one short
    CHECK (!zhub_is_uuid ("a1405560-c8d3-4b1a-877d-3f449ad953521")); //  one long
    CHECK (!zhub_is_uuid ("a1405560-c8d3-4b1a-877d-3f449ad9535g"));  //  not hex
    CHECK (!zhub_is_uuid ("a1405560-c8d34-b1a-877d-3f449ad95352"));  //  dash moved
    CHECK (!zhub_is_uuid (" a1405560-c8d3-4b1a-877d-3f449ad9535"));  //  padded
}

static void
test_durations (void)
{
    int64_t ms;
    CHECK (zhub_parse_duration_ms ("250", &ms) == 0 && ms == 250);
    CHECK (zhub_parse_duration_ms ("30s", &ms) == 0 && ms == 30000);
    CHECK (zhub_parse_duration_ms ("8d", &ms) == 0 && ms == 8LL * 86400000);
    CHECK (zhub_parse_duration_ms ("1.5s", &ms) == 0 && ms == 1500);
    CHECK (zhub_parse_duration_ms ("5x", &ms) == -1);
    CHECK (zhub_parse_duration_ms ("-1s", &ms) == -1);
    char buf[32];
    CHECK_STR (zhub_env_mask ("hunter2", buf, sizeof buf), "set(7 bytes)");
    CHECK_STR (zhub_env_mask (NULL, buf, sizeof buf), "unset");
}

static void
test_duration_lists (void)
{
    int64_t steps[4];
    CHECK (zhub_parse_duration_list ("1s, 5s,30s ,2m", steps, 4) == 4);
    CHECK (steps[0] == 1000 && steps[1] == 5000 && steps[2] == 30000 && steps[3] == 120000);
    CHECK (zhub_parse_duration_list ("", steps, 4) == 0);
    CHECK (zhub_parse_duration_list (NULL, steps, 4) == 0);
    CHECK (zhub_parse_duration_list ("1s,,2s", steps, 4) == -1);
    CHECK (zhub_parse_duration_list ("1s,2x", steps, 4) == -1);
    CHECK (zhub_parse_duration_list ("1s,2s,3s,4s,5s", steps, 4) == -1);
}

static void
test_clocks_move_forward (void)
{
    int64_t a = zhub_mono_ms (), b = zhub_mono_ms ();
    CHECK (b >= a);
    CHECK (zhub_now_ms () > 1700000000000LL);
}

static void
test_string_lists (void)
{
    zhub_strlist_t list = {0};
    zhub_strlist_add (&list, "b-ana");
    zhub_strlist_add (&list, NULL); //  skipped
    zhub_strlist_add (&list, "");   //  skipped
    zhub_strlist_add_unique (&list, "b-ana");
    zhub_strlist_add_unique (&list, "501");
    zhub_strlist_take (&list, zhub_strdup ("bk1"));
    CHECK (list.count == 3);
    CHECK (zhub_strlist_has (&list, "501") && !zhub_strlist_has (&list, "50"));
    CHECK (!zhub_strlist_has (&list, NULL));
    CHECK (zhub_strlist_has_bytes (&list, "bk1xyz", 3) && !zhub_strlist_has_bytes (&list, "bk", 2));
    zhub_strlist_clear (&list);
    CHECK (list.count == 0 && list.items == NULL);
    zhub_strlist_add (&list, "again"); //  reusable after a clear
    CHECK (list.count == 1);
    zhub_strlist_clear (&list);
}

static void
test_configured_urls (void)
{
    zhub_url_t url;
    CHECK (zhub_url_parse ("https://graph.microsoft.com/v1.0/", &url) == 0);
    CHECK (url.https && url.port == -1);
    CHECK_STR (url.host, "graph.microsoft.com");
    CHECK (url.path_size == 5 && !strncmp (url.path, "/v1.0", 5));
    CHECK (zhub_url_path_ends_with (&url, "/v1.0"));
    CHECK (!zhub_url_is_loopback (&url));
    CHECK (zhub_url_parse ("HTTP://127.0.0.1:8080", &url) == 0);
    CHECK (!url.https && url.port == 8080 && url.path_size == 0 && zhub_url_is_loopback (&url));
    CHECK (!zhub_url_path_ends_with (&url, "/v1.0"));
    CHECK (zhub_url_parse ("http://[::1]:9000/zhub", &url) == 0);
    CHECK_STR (url.host, "::1");
    CHECK (url.port == 9000 && zhub_url_is_loopback (&url));
    CHECK (zhub_url_parse ("http://Localhost/x", &url) == 0 && zhub_url_is_loopback (&url));
    CHECK (zhub_url_parse ("https://www.googleapis.com/calendar/v3", &url) == 0);
    CHECK (zhub_url_path_ends_with (&url, "/calendar/v3"));
    CHECK (zhub_url_parse ("https://www.googleapis.com/xcalendar/v3", &url) == 0);
    CHECK (!zhub_url_path_ends_with (&url, "/calendar/v3"));
    const char *bad[] = {"graph.microsoft.com/v1.0",
                         "ftp://h",
                         "https://",
                         "https:///x",
                         "https://h:0",
                         "https://h:65536",
                         "https://h:8a",
                         "https://h?x=1",
                         "https://h/#f",
                         "https://u@h",
                         "https://h /x",
                         "http://[::1",
                         NULL};
    for (int i = 0; bad[i]; i++)
        CHECK (zhub_url_parse (bad[i], &url) == -1);
}

//  The gateway and the scheduler share one default public URL.
static void
test_public_url_default (void)
{
    bool is_default = false;
    unsetenv ("ZHUB_PUBLIC_URL");
    unsetenv ("ZHUB_GATEWAY_LISTEN");
    char *url = zhub_env_public_url (&is_default);
    CHECK_STR (url, "http://" ZHUB_GATEWAY_LISTEN_DEFAULT);
    CHECK (is_default);
    free (url);
    setenv ("ZHUB_GATEWAY_LISTEN", "127.0.0.1:9100", 1);
    setenv ("ZHUB_PUBLIC_URL", "", 1); //  empty is unset
    url = zhub_env_public_url (&is_default);
    CHECK_STR (url, "http://127.0.0.1:9100");
    CHECK (is_default);
    free (url);
    setenv ("ZHUB_PUBLIC_URL", "https://hooks.example.com/zhub", 1);
    url = zhub_env_public_url (&is_default);
    CHECK_STR (url, "https://hooks.example.com/zhub");
    CHECK (!is_default);
    free (url);
    unsetenv ("ZHUB_PUBLIC_URL");
    unsetenv ("ZHUB_GATEWAY_LISTEN");
}

//  The one way to put outside text in a log line.
static void
test_log_values_cannot_break_a_line (void)
{
    char buf[32];
    CHECK_STR (zhub_log_quote ("a \"b\"\nc", buf, sizeof buf), "\"a 'b' c\"");
    CHECK_STR (zhub_log_quote (NULL, buf, sizeof buf), "\"\"");
    CHECK_STR (zhub_log_quote ("0123456789012345678901234567890123456789", buf, 12),
               "\"012345678\"");
    CHECK_STR (zhub_log_safe ("id 7\"x\\\n", buf, sizeof buf), "id_7_x__");
    CHECK_STR (zhub_log_safe ("", buf, sizeof buf), "-");
    CHECK_STR (zhub_log_safe (NULL, buf, sizeof buf), "-");
    char small[4];
    CHECK_STR (zhub_log_safe ("abcdef", small, sizeof small), "abc");
}

int
main (void)
{
    RUN (test_rfc3339_round_trip);
    RUN (test_secure_equal);
    RUN (test_uuids);
    RUN (test_durations);
    RUN (test_duration_lists);
    RUN (test_clocks_move_forward);
    RUN (test_string_lists);
    RUN (test_configured_urls);
    RUN (test_public_url_default);
    RUN (test_log_values_cannot_break_a_line);
    TEST_EXIT ();
}
