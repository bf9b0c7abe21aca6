"""docs/configuration.md names every ZHUB_* variable the C sources read, and
reads nothing else: an operator never has to guess a setting from the code,
and the reference never describes a variable nothing reads.

What counts as read: a string literal that is a whole variable name
("ZHUB_HUBSPOT_TOKEN"), the form every getenv / zhub_env_* call and the
gateway's table of secrets use; a literal ending in "_" or "_%s"
("ZHUB_GENERIC_SECRET_", "ZHUB_GATEWAY_RATE_%s") is a family, documented as
ZHUB_GENERIC_SECRET_<NAME>. The gateway reads "<NAME>_PREVIOUS" for each of
its secrets, so a documented X_PREVIOUS needs X to be read. Tests are not
sources: their ZHUB_BUILD_DIR and fixtures do not count."""
import os
import re

from harness import SOURCE_ROOT

DOC = os.path.join(SOURCE_ROOT, "docs", "configuration.md")
SOURCE_DIRS = ("actors", "broker", "cli", "common", "gateway", "proto", "store")
LITERAL = re.compile(r'"(ZHUB_[A-Z0-9_]*?)(_%s)?"')
DOCUMENTED = re.compile(r"ZHUB_[A-Z0-9_]*[A-Z0-9](_<[A-Z]+>)?(_?\*)?")


def read_variables():
    """name -> the files reading it; a family's name ends with "_"."""
    found = {}
    for top in SOURCE_DIRS:
        for folder, _, files in os.walk(os.path.join(SOURCE_ROOT, top)):
            for name in files:
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for match in LITERAL.finditer(text):
                    variable = match.group(1) + ("_" if match.group(2) else "")
                    found.setdefault(variable, set()).add(os.path.relpath(path, SOURCE_ROOT))
    return found


def documented_variables():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    names = set()
    for match in DOCUMENTED.finditer(text):
        if match.group(2):
            continue          # prose like ZHUB_GOOGLE_* names no variable
        name = match.group(0)
        names.add(name[:name.index("<")] if match.group(1) else name)
    return names


def test_the_sources_read_variables_at_all():
    # guards the two tests below against a pattern that silently finds nothing
    read = read_variables()
    assert {"ZHUB_HUBSPOT_TOKEN", "ZHUB_GATEWAY_BODY_LIMIT", "ZHUB_GENERIC_SECRET_",
            "ZHUB_GATEWAY_RATE_", "ZHUB_LOG_LEVEL"} <= set(read), sorted(read)
    assert len(documented_variables()) > 50


def test_every_variable_the_sources_read_is_documented():
    documented = documented_variables()
    missing = {name: sorted(files) for name, files in read_variables().items()
               if name not in documented}
    assert not missing, "read in the C sources but not in docs/configuration.md: %s" % missing


def test_every_documented_variable_is_read():
    read = set(read_variables())
    stray = sorted(name for name in documented_variables()
                   if name not in read
                   and not (name.endswith("_PREVIOUS") and name[:-len("_PREVIOUS")] in read))
    assert not stray, "documented in docs/configuration.md but read nowhere: %s" % stray
