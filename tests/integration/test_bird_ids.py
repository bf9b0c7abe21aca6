"""Bird names workspaces and channels by UUID and refuses anything else on
every call. A process configured with another id would start and then fail
each message; instead it refuses to start, with one line naming the
setting, and exits non-zero."""
import json
import signal
import subprocess

from harness import BINARIES

BAD_WORKSPACE = "local-workspace"


def run(binary, env, *args):
    """Runs a zhub program to its exit (no broker is needed: the
    configuration is read and refused before anything connects). One that
    starts instead is stopped with SIGTERM (`zhub up` then stops what it
    started) and its return code shows it ran."""
    proc = subprocess.Popen([BINARIES[binary], *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_actors_refuse_a_workspace_id_that_is_not_a_uuid(hub):
    """Every actor that calls Bird (activity-log and dead-letter do not:
    they never read the setting)."""
    env = dict(hub.env, ZHUB_BIRD_WORKSPACE_ID=BAD_WORKSPACE)
    for actor in ("contact-sync", "deal-sync", "scheduler"):
        out = run(actor, env)
        assert out.returncode == 1, (actor, out.returncode, out.stderr)
        lines = [line for line in out.stderr.splitlines() if "event=config_invalid" in line]
        assert len(lines) == 1, (actor, out.stderr)
        assert "ZHUB_BIRD_WORKSPACE_ID must be a Bird workspace id" in lines[0], lines[0]
        assert "event=ready" not in out.stderr


def test_scheduler_refuses_a_channel_id_that_is_not_a_uuid(hub, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"scheduler": {"bird_channel_id": "ch-whatsapp"}}))
    out = run("scheduler", dict(hub.env, ZHUB_MAPPING_FILE=str(mapping)))
    assert out.returncode == 1, out.stderr
    assert "event=config_invalid" in out.stderr
    assert "bird_channel_id (a Bird channel id is a UUID" in out.stderr


def test_zhub_up_refuses_a_workspace_id_that_is_not_a_uuid(hub):
    out = run("zhub", dict(hub.env, ZHUB_BIRD_WORKSPACE_ID=BAD_WORKSPACE), "up", "--no-peers")
    assert out.returncode == 2, out.stderr
    assert "ZHUB_BIRD_WORKSPACE_ID must be a Bird workspace id" in out.stderr
    assert BAD_WORKSPACE in out.stderr
    assert "zhub is up" not in out.stdout
