"""WhatsApp's 24-hour window, end to end: a person writes in through the
Bird stand-in (signed whatsapp.inbound -> gateway -> bus), zhub-scheduler
keeps when, and then sends free text only inside the window and the
configured template outside it. The Bird stand-in is as strict as WhatsApp:
free text outside the window is accepted (202) and then fails, reported by
a whatsapp.outbound event, which the scheduler logs against the booking."""
import datetime
import time
import uuid
import zoneinfo

from harness import wait_until
from peer_http import bus_messages, http, peer_state
from test_scheduler import ANA, CHANNEL, SLOT, TEMPLATES, params, request, start, whatsapp_sent

PHONE = "+5215512345678"
BIRD_AUTH = {"Authorization": "AccessKey test-bird-key"}
EVERY_HOUR = {"start": "00:00", "end": "24:00", "days": [0, 1, 2, 3, 4, 5, 6]}
# Spanish dates, written here independently of the C tables
DIAS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MESES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
         "septiembre", "octubre", "noviembre", "diciembre"]


def fecha(ms):
    local = datetime.datetime.fromtimestamp(ms / 1000, zoneinfo.ZoneInfo("America/Mexico_City"))
    return "%s %d de %s, %02d:%02d" % (DIAS[local.weekday()], local.day, MESES[local.month - 1],
                                       local.hour, local.minute)


def with_gateway(hub):
    """The gateway, and the Bird stand-in's webhooks pointed at it."""
    hub.start("gateway")
    status, _ = http("POST", hub.peers["bird"] + "/__peer/config",
                     {"webhook_url": hub.gateway_url + "/v1/webhooks/bird",
                      "signing_key": hub.BIRD_KEY})
    assert status == 200


def write_in(hub, sent_at=None):
    """The person writes on WhatsApp (at sent_at, unix ms; default now); the
    stand-in's signed whatsapp.inbound is committed on the bus when this
    returns. Returns the person's Bird contact id."""
    spec = {"from": PHONE, "text": "Hola, quiero ver el departamento"}
    if sent_at is not None:
        spec["sent_at"] = sent_at
    status, result = http("POST", hub.peers["bird"] + "/__peer/inbound", spec)
    assert status == 200 and result["status"] == 200, result
    return result["event"]["payload"]["sender"]["contact"]["id"]


def test_reminder_outside_the_window_goes_as_a_template_and_is_delivered(hub):
    proc = start(hub, agents=(ANA,), reminders=["4s"], business_hours=EVERY_HOUR)
    with_gateway(hub)
    # the person last wrote 30 hours ago: the window closed long since
    bird_id = write_in(hub, sent_at=int(time.time() * 1000) - 30 * 3600 * 1000)
    tour = (int(time.time()) + 10) * 1000
    request(hub, [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tour / 1000))],
            bird_id=bird_id, duration_min=5)
    reminders = wait_until(lambda: whatsapp_sent(hub, "reminder"), timeout=20,
                           what="the reminder")
    assert len(reminders) == 1
    reminder = reminders[0]
    assert reminder["template"] == {
        "projectId": TEMPLATES["reminder"]["project_id"], "version": "latest",
        "locale": "es-MX", "parameters": reminder["template"]["parameters"]}
    assert params(reminder) == {"fecha": fecha(tour), "lugar": "Torre Reforma", "asesor": "Ana"}
    assert reminder["status"] == "delivered" and reminder["channelId"] == CHANNEL
    # nothing went as free text: the confirmation was a template too
    assert [m for m in whatsapp_sent(hub) if "body" in m] == []
    assert len(whatsapp_sent(hub, "confirmation")) == 1
    log = proc.log_text()
    assert "event=handled" in log and "outcome=inbound_seen" in log
    assert "kind=reminder form=template" in log and "kind=confirmation form=template" in log


def test_confirmation_inside_the_window_goes_as_free_text(hub):
    proc = start(hub, agents=(ANA,))
    with_gateway(hub)
    bird_id = write_in(hub)  # just now: the window is open
    # same subject as the inbound event: the broker hands them over in order
    request(hub, [SLOT], bird_id=bird_id)
    scheduled = wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5),
                           what="booking")
    sent = wait_until(lambda: whatsapp_sent(hub), what="the confirmation")
    assert len(sent) == 1 and "template" not in sent[0]
    assert sent[0]["body"]["text"]["text"] == (
        "Tu visita está confirmada: martes 5 de marzo, 11:00, en Torre Reforma, con Ana. "
        "Detalles: " + scheduled[0]["data"]["confirmation_url"])
    assert sent[0]["status"] == "delivered"
    assert sent[0]["reference"] == scheduled[0]["data"]["booking_id"]
    assert "kind=confirmation form=text" in proc.log_text()


def test_free_text_outside_the_window_fails_at_the_stand_in(hub):
    """What the scheduler used to do: free text whatever the window. Bird
    takes it (202), WhatsApp refuses it, and the failure comes back as a
    whatsapp.outbound event that the scheduler logs for the booking."""
    proc = start(hub, agents=(ANA,))
    with_gateway(hub)
    write_in(hub, sent_at=int(time.time() * 1000) - 25 * 3600 * 1000)
    booking = "bk" + uuid.uuid4().hex
    status, accepted = http(
        "POST", "%s/workspaces/%s/channels/%s/messages" % (hub.peers["bird"], hub.WORKSPACE,
                                                           CHANNEL),
        {"receiver": {"contacts": [{"identifierKey": "phonenumber", "identifierValue": PHONE}]},
         "body": {"type": "text", "text": {"text": "Recordatorio: tu visita es mañana"}},
         "reference": booking}, BIRD_AUTH)
    assert status == 202 and accepted["status"] == "accepted"
    reports = wait_until(lambda: bus_messages(hub, "webhook.bird.whatsapp.outbound", quiet=0.3),
                         what="Bird's report of the failed message")
    payload = reports[0]["data"]["payload"]
    assert payload["id"] == accepted["id"] and payload["status"] == "delivery_failed"
    assert payload["reason"] == "131047" and payload["reference"] == booking
    assert reports[0]["subject"] == "contact:" + payload["receiver"]["contacts"][0]["id"]
    [message] = [m for m in peer_state(hub, "bird")["messages"] if m["id"] == accepted["id"]]
    assert message["status"] == "delivery_failed"
    wait_until(lambda: "event=whatsapp_failed" in proc.log_text(), what="the scheduler's warning")
    assert "booking=%s status=delivery_failed reason=\"131047\"" % booking in proc.log_text()


def test_outside_the_window_without_a_template_nothing_is_sent(hub):
    proc = start(hub, agents=(ANA,), whatsapp={"locale": "es-MX"})
    request(hub, [SLOT])
    wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.5), what="booking")
    wait_until(lambda: "event=whatsapp_skipped" in proc.log_text(), what="the skip")
    log = proc.log_text()
    assert "event=whatsapp_templates_missing kinds=confirmation,reminder" in log
    assert "whatsapp.templates.confirmation" in log
    assert whatsapp_sent(hub) == []
