"""The soak (issue 21): many simulated kiosks on one office for a long time, with the office,
its database and the network failing on a schedule; afterwards, checks that nothing was lost
or stored twice, and a table of what it measured. `make soak` runs it (`python -m
benchmarks.soak`); it is not part of `make test` or `make bench`.

    proxy.py     a fault-injecting TCP proxy on loopback (asyncio)
    fleet.py     simulated kiosks: real kiosks (engine, outbox, SQLite) and real sync clients,
                 their timed transport, and a clock set hours off
    worker.py    a process running a share of the fleet (threads), and its entry point
    office.py    the office processes (`kiosk office serve --workers 2`) and PostgreSQL
    checks.py    the checks made after the run
    figures.py   percentiles per phase, the table and the JSON
    harness.py   the schedule of faults, the run, the report (`python -m benchmarks.soak`)
"""
