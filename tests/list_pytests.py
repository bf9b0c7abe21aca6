"""Prints one pytest node id per line (file::test_name) for the test files
given, by reading their syntax tree — no imports, so it runs at configure
time without the modules' dependencies. Meson registers each id as its own
test, so the summary counts behaviours, not files."""
import ast
import os
import sys

for path in sys.argv[1:]:
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            print("%s::%s" % (os.path.basename(path), node.name))
