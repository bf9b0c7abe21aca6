"""How a client authenticates to zhub-broker (proto/PROTOCOL.md 16): CURVE
with its own key pair and the broker's public key, or plain, which is only
for a broker on this machine. The same settings as zhub's own processes:

    ZHUB_BUS_SECURITY       curve (the default) or plain
    ZHUB_BUS_CERT           curve: this client's secret certificate file
                            (`zhub keys new NAME` makes it)
    ZHUB_BROKER_PUBLIC_KEY  curve: the broker's public key (40 characters of
                            Z85) or its public certificate file
"""
import ipaddress
import os

LOCAL_HOSTS = ("localhost", "[::1]")


class Curve:
    """A client's CURVE keys: its own pair and the broker's public key, each
    as 40 characters of Z85."""

    def __init__(self, public, secret, server):
        for name, key in (("public", public), ("secret", secret), ("server", server)):
            if not isinstance(key, str) or len(key) != 40:
                raise ValueError("the %s key must be 40 characters of Z85" % name)
        self.public, self.secret, self.server = public, secret, server

    @classmethod
    def load(cls, cert, broker_key):
        """From a secret certificate file (czmq's format) and the broker's
        public key or public certificate file."""
        mine = read_cert(cert)
        if "secret-key" not in mine or "public-key" not in mine:
            raise ValueError("%s is not a secret certificate (public-key and secret-key)" % cert)
        if len(broker_key) == 40 and not os.path.exists(broker_key):
            server = broker_key
        else:
            server = read_cert(broker_key).get("public-key", "")
        return cls(mine["public-key"], mine["secret-key"], server)

    def apply(self, sock):
        """Sets a socket's CURVE options (before it connects)."""
        sock.curve_serverkey = self.server.encode()
        sock.curve_publickey = self.public.encode()
        sock.curve_secretkey = self.secret.encode()

    def __repr__(self):
        return "Curve(public=%r, server=%r)" % (self.public, self.server)


def read_cert(path):
    """The keys and metadata of a czmq certificate file (zcert's text)."""
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if "=" not in line or line.startswith("#"):
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            found[key] = value.strip('"')
    return found


def endpoint_is_local(endpoint):
    """True for an endpoint that stays on this machine: tcp:// to a loopback
    address (127.0.0.0/8, [::1], localhost), ipc:// and inproc://."""
    if endpoint.startswith(("ipc://", "inproc://")):
        return True
    if not endpoint.startswith("tcp://"):
        return False
    host = endpoint[6:].rsplit(":", 1)[0]
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def from_env(endpoints, environ=None):
    """The Curve that ZHUB_BUS_SECURITY and the key files ask for, or None
    for plain. Plain with an endpoint that is not local, and curve without
    its keys, raise ValueError saying which setting."""
    env = os.environ if environ is None else environ
    security = env.get("ZHUB_BUS_SECURITY") or "curve"
    if security == "plain":
        for endpoint in endpoints:
            if not endpoint_is_local(endpoint):
                raise ValueError("ZHUB_BUS_SECURITY=plain is only for endpoints on this machine "
                                 "(loopback, ipc); %s is not: use curve" % endpoint)
        return None
    if security != "curve":
        raise ValueError("ZHUB_BUS_SECURITY must be curve or plain")
    cert, broker_key = env.get("ZHUB_BUS_CERT"), env.get("ZHUB_BROKER_PUBLIC_KEY")
    if not cert:
        raise ValueError("ZHUB_BUS_CERT is not set: the bus uses CURVE (ZHUB_BUS_SECURITY=curve, "
                         "the default) and needs this client's secret certificate; for a local "
                         "broker on loopback set ZHUB_BUS_SECURITY=plain")
    if not broker_key:
        raise ValueError("ZHUB_BROKER_PUBLIC_KEY is not set: CURVE needs the broker's public key")
    return Curve.load(cert, broker_key)
