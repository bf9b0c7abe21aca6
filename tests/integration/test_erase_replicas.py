"""`zhub erase contact` with replicas: three contact-sync replicas and two
activity-log replicas, each with its own store (PROTOCOL.md 7.8). Each
person is created through a different replica, so only that replica's
store knows her phone and Bird id; after erasing every person, no LMDB file
under the data folder (every replica's, the broker's log) holds a phone, an
e-mail or a name of theirs. Then the same with a contact-sync replica
SIGKILLed while the erase runs and started again."""
import glob
import json
import os
import subprocess

from harness import BINARIES, wait_until
from peer_http import peer_state, publish
from test_contact_sync import (hubspot_contacts_with, inbound_message, post_bird_webhook,
                               seed_bird_contact)

PEOPLE = [("+5215511110001", "ana.perez@example.com", "Ana Pérez"),
          ("+5215522220002", "bea.ruiz@example.org", "Bea Ruiz"),
          ("+5215533330003", "carla.diaz@example.net", "Carla Díaz")]
KEPT = ("+5215599998888", "bob.gomez@example.org", "Bob Gómez")
CONTACT_SYNC = ["cs-a", "cs-b", "cs-c"]
ACTIVITY_LOG = ["al-a", "al-b"]


def store_bytes(paths):
    data = b""
    for path in paths:
        with open(path, "rb") as f:
            data += f.read()
    return data


def every_store(hub):
    return glob.glob(os.path.join(hub.data_dir, "**", "*.mdb"), recursive=True)


def replica_store(hub, replica):
    return glob.glob(os.path.join(hub.data_dir, replica, "**", "*.mdb"), recursive=True)


def zhub(hub, *args, timeout=150):
    return subprocess.run([BINARIES["zhub"]] + list(args), env=hub.env, capture_output=True,
                          text=True, timeout=timeout)


def start_replica(hub, actor, replica, generation=0):
    """One replica: its own data folder under the hub's, its own instance."""
    # a short ack deadline: a killed replica's delivery comes back soon
    env = {"ZHUB_DATA_DIR": os.path.join(hub.data_dir, replica), "ZHUB_INSTANCE": replica,
           "ZHUB_BACKOFF": "200ms", "ZHUB_ACK_DEADLINE": "5s"}
    if actor == "activity-log":
        env["ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL"] = "1s"
    name = "%s-%s%s" % (actor, replica, "-%d" % generation if generation else "")
    return hub._start(name, [BINARIES[actor]], extra_env=env)


def create_person(hub, phone, email, name):
    """What a WhatsApp conversation leaves: a contact (contact-sync), a
    transcript (activity-log). Returns her Bird id once both are there."""
    bird_id = seed_bird_contact(hub, name, phone, email)
    post_bird_webhook(hub, inbound_message(bird_id, phone, "Hola, soy %s: %s" % (name, email)))
    wait_until(lambda: hubspot_contacts_with(hub, bird_id), timeout=30, what="her HubSpot contact")
    publish(hub, "conversation.message",
            {"conversation_id": "conv-" + bird_id[:8], "bird_contact_id": bird_id,
             "direction": "in", "text": "Mi correo es %s y mi cel %s" % (email, phone)},
            subject="contact:" + bird_id)
    wait_until(lambda: [n for n in peer_state(hub, "hubspot")["notes"] if email in json.dumps(n)],
               timeout=30, what="her transcript note")
    return bird_id


def build(hub):
    """People created through every replica: each person while only one
    contact-sync replica (and one activity-log replica) is up. Returns
    ({replica: process}, the Bird ids)."""
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    procs, birds = {}, []
    for i, (phone, email, name) in enumerate(PEOPLE):
        cs, al = CONTACT_SYNC[i], ACTIVITY_LOG[i % 2]
        for replica in list(procs):
            procs.pop(replica).stop()
        procs[cs] = start_replica(hub, "contact-sync", cs)
        procs[al] = start_replica(hub, "activity-log", al)
        birds.append(create_person(hub, phone, email, name))
    for replica in CONTACT_SYNC + ACTIVITY_LOG:
        if replica not in procs:
            procs[replica] = start_replica(hub, "activity-log" if replica.startswith("al")
                                           else "contact-sync", replica)
    kept = create_person(hub, *KEPT)
    # only the replica a person was created through knows her
    for i, bird in enumerate(birds):
        for cs in CONTACT_SYNC:
            found = bird.encode() in store_bytes(replica_store(hub, cs))
            assert found == (cs == CONTACT_SYNC[i]), (bird, cs)
    return procs, birds, kept


def check_report(report, unsure=None):
    """The per-replica report. unsure: a contact-sync replica killed while
    it held the erase: the broker keeps that delivery in flight until its
    ack deadline (the dead process never acks), so it may not have that
    replica's confirmation yet even when its forget went through."""
    assert report["ok"] is True, report
    answered = {(f["actor"], f.get("replica")) for f in report["forgotten"]}
    for cs in CONTACT_SYNC:
        assert ("contact-sync", cs) in answered, report
    for al in ACTIVITY_LOG:
        assert ("activity-log", al) in answered, report
    # every contact-sync replica's forget went through the broker's erase
    assert report["erased_for"] == {cs: True for cs in CONTACT_SYNC}, report
    groups = {r["group"] + "~" + r["replica"]: r for r in report["replicas"]}
    for name in ["contact-sync~" + cs for cs in CONTACT_SYNC] + \
            ["activity-log~" + al for al in ACTIVITY_LOG]:
        assert groups[name]["confirmed"] is True or name == "contact-sync~%s" % unsure, report


def spellings(phone):
    """The phone as typed and as stored: without "+", and a Mexican mobile
    without the old "1" after 52 (contact-sync normalises to that)."""
    short = "+52" + phone[4:] if phone.startswith("+521") else phone
    return [phone, phone[1:], short, short[1:]]


def _around(data, needle):
    """What surrounds the first occurrence: says which record kept it."""
    at = data.find(needle)
    return data[max(0, at - 160):at + len(needle) + 160]


def check_no_trace(hub, birds, kept):
    hub.stop_all()   # every file final
    after = store_bytes(every_store(hub))
    for (phone, email, name), bird in zip(PEOPLE, birds):
        for needle in spellings(phone) + [email, name, name.split()[1], bird]:
            where = [(p, _around(store_bytes([p]), needle.encode()))
                     for p in every_store(hub) if needle.encode() in store_bytes([p])]
            assert not where, (needle, where)
    for needle in KEPT[:2] + (kept,):
        assert needle.encode() in after, needle


def test_erase_with_replicas_leaves_no_trace_in_any_replica_or_the_log(hub):
    procs, birds, kept = build(hub)
    before = store_bytes(every_store(hub))
    for phone, email, name in PEOPLE:
        for needle in spellings(phone) + [email, name]:
            assert needle.encode() in before, needle
    for phone, email, _ in PEOPLE:
        out = zhub(hub, "erase", "contact", email, "--json", "--timeout", "90s")
        assert out.returncode == 0, (out.stdout, out.stderr, hub.logs())
        check_report(json.loads(out.stdout))
    check_no_trace(hub, birds, kept)


def test_erase_with_a_replica_killed_during_it_and_restarted(hub):
    procs, birds, kept = build(hub)
    for i, (phone, email, _) in enumerate(PEOPLE):
        victim = CONTACT_SYNC[i]       # the replica that knows her
        erase = subprocess.Popen([BINARIES["zhub"], "erase", "contact", phone, "--json",
                                  "--timeout", "90s"], env=hub.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        # the request is on the bus: kill her replica (whatever it has done
        # of the erase by then), start it again on the same store
        wait_until(lambda: _published(hub, "contact.erase", i + 1),
                   timeout=20, what="the erase request")
        procs[victim].kill9()
        procs[victim] = start_replica(hub, "contact-sync", victim, generation=i + 1)
        stdout, stderr = erase.communicate(timeout=150)
        assert erase.returncode == 0, (stdout, stderr, hub.logs())
        check_report(json.loads(stdout), unsure=victim)
    # every replica group done with everything (a killed replica's
    # redelivered erase included) before the files are read
    wait_until(lambda: _settled(hub), timeout=60, what="every replica group to settle")
    check_no_trace(hub, birds, kept)


def _settled(hub):
    out = zhub(hub, "status", "--json", timeout=20)
    groups = json.loads(out.stdout)["groups"] if out.returncode == 0 else None
    return groups and all(g["lag"] == 0 and g["in_flight"] == 0 for g in groups.values())


def _published(hub, topic, count):
    out = zhub(hub, "status", "--json", timeout=20)
    return out.returncode == 0 and json.loads(out.stdout)["topics"].get(topic, 0) >= count
