"""The C client library that `meson install` installs for other services:
a program built only from the installed header and pkg-config file, linked
to the installed shared library, talks to a real broker with CURVE (the
default): its key read from the environment by the installed
zhub_bus_auth_load, made by `zhub keys`."""
import glob
import os
import subprocess
import sys

from installed import ROOT, install

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import BINARIES, Hub  # noqa: E402

PROGRAM = r"""
#include <zhub_client.h>
#include <stdio.h>
int main (int argc, char **argv)
{
    (void) argc;
    const char *endpoints[] = {argv[1]};
    zhub_bus_auth_t auth;
    char err[512];
    if (zhub_bus_auth_load (&auth, endpoints, 1, err, sizeof err)) {
        printf ("auth: %s\n", err);
        return 2;
    }
    if (auth.security != ZHUB_BUS_CURVE)
        return 3;
    zhub_client_t *client = zhub_client_new (argv[1], "installed-client", &auth);
    zhub_rc_t rc = zhub_client_ping (client, 5000);
    printf ("ping %s\n", rc == ZHUB_OK ? "ok" : "failed");
    zhub_client_destroy (&client);
    return rc == ZHUB_OK ? 0 : 1;
}
"""


def test_a_program_built_from_the_installed_files_talks_to_the_broker(tmp_path):
    dest = install(os.path.join(str(tmp_path), "root"))
    pcs = glob.glob(os.path.join(dest, "usr", "local", "lib*", "**", "zhub-client.pc"),
                    recursive=True)
    assert len(pcs) == 1, pcs
    pc_dir = os.path.dirname(pcs[0])
    # the installed tree lives under DESTDIR: the sysroot prefixes its paths
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir, PKG_CONFIG_SYSROOT_DIR=dest)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "zhub-client"],
                           env=env, capture_output=True, text=True)
    assert flags.returncode == 0, flags.stderr
    assert dest in flags.stdout    # the installed copy, not the source tree
    source = os.path.join(str(tmp_path), "client.c")
    with open(source, "w") as f:
        f.write(PROGRAM)
    exe = os.path.join(str(tmp_path), "client")
    out = subprocess.run(["cc", "-o", exe, source] + flags.stdout.split(),
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    hub = Hub(tmp_path)
    keys, secrets = os.path.join(str(tmp_path), "allow"), os.path.join(str(tmp_path), "keys")
    made = subprocess.run([BINARIES["zhub"], "keys", "new", "--all", "--keys", keys,
                           "--out", secrets], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    # the program: CURVE from the environment, ZHUB_BUS_SECURITY unset (the default)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHUB_")}
    env.update(LD_LIBRARY_PATH=os.path.dirname(pc_dir),
               ZHUB_BUS_CERT=os.path.join(secrets, "contact-sync.key_secret"),
               ZHUB_BROKER_PUBLIC_KEY=os.path.join(secrets, "broker.key"))
    try:
        hub.start("broker", extra_env={"ZHUB_BUS_SECURITY": "curve", "ZHUB_BUS_KEYS": keys,
                                       "ZHUB_BROKER_CERT": os.path.join(secrets,
                                                                        "broker.key_secret")})
        out = subprocess.run([exe, hub.env["ZHUB_BROKER"]], capture_output=True, text=True,
                             env=env, timeout=30)
    finally:
        hub.stop_all()
    assert out.returncode == 0 and out.stdout == "ping ok\n", out.stdout + out.stderr
    ldd = subprocess.run(["ldd", exe], capture_output=True, text=True,
                         env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(pc_dir)))
    assert os.path.dirname(pc_dir) + "/libzhub-client.so.0" in ldd.stdout
