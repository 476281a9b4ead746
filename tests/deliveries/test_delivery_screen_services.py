"""The touchscreen's delivery services over a real kiosk and the fake printer: a parcel
logged and its label printed on the badges' queue, a scanned pickup QR routed as a parcel
(not a badge), and the collection with the refusal of a second one."""

from __future__ import annotations

import threading

import pytest
from devices.escpos_reader import read_job

from kiosk.app import Kiosk, KioskServices
from kiosk.devices.printers import FakePrinter
from kiosk.ui.deliveries import ParcelRefused


def test_log_print_scan_and_collect_through_the_screen_services(
    kiosk: Kiosk, hosts: dict[str, str]
) -> None:
    printer = FakePrinter()
    services = KioskServices(kiosk, printer=printer, camera=object())
    try:
        printed = threading.Event()
        outcome: list[bool] = []

        def on_printed(ok: bool) -> None:
            outcome.append(ok)
            printed.set()

        assert "sf" in services.delivery_choices().carriers
        line = services.log_delivery(
            kind="parcel", carrier="sf", items=1, host_ref=hosts["李娜"], on_printed=on_printed
        )
        assert printed.wait(20) and outcome == [True]
        assert line.recipient == "李娜" and len(line.pickup_code) == 6
        [token_text] = [q.decode() for q in read_job(printer.jobs[0], 576).qr_data] or [""]
        if not token_text:  # a raster QR (the default profile): read it from the paper
            import numpy as np
            import zxingcpp

            paper = np.asarray(read_job(printer.jobs[0], 576).paper.convert("L"))
            token_text = zxingcpp.read_barcodes(paper)[0].text
        scanned = services._classify(token_text.encode())
        assert scanned.kind == "parcel"
        assert services.parcel_for_pickup_token(scanned.text).parcel_ref == line.parcel_ref
        done = services.collect_parcel(collected_by="李娜", token=scanned.text)
        assert done.state == "collected" and services.waiting_parcels() == []
        with pytest.raises(ParcelRefused, match="already collected by 李娜"):
            services.collect_parcel(collected_by="x", code=line.pickup_code)
        with pytest.raises(ParcelRefused) as refused:  # its moment in the site's time
            services.parcel_for_pickup_token(scanned.text)
        assert refused.value.detail.endswith(" on " + line.logged_at)
    finally:
        services.close()
