def pytest_sessionfinish(session, exitstatus):
    """A run whose tests were all skipped (a tool this machine lacks) exits
    77, which meson counts as skipped, instead of passing silently."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    stats = reporter.stats
    if stats.get("skipped") and not stats.get("passed") and not stats.get("failed") \
            and not stats.get("error"):
        session.exitstatus = 77
