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


def test_a_waybill_scanned_from_a_code_128_through_the_cameras_threads(kiosk: Kiosk) -> None:
    """The waybill's scan reads Code 128 (the kiosk's everyday reader does not), hands the
    text over as encoded (a tab kept, for the screen to refuse in words), and puts the
    everyday reader back when it stops."""
    import numpy as np
    import zxingcpp

    from kiosk.devices.cameras import open_camera
    from kiosk.devices.config import CameraConfig
    from kiosk.devices.decoders import FastReader
    from kiosk.devices.synthetic import Conditions, synth_frame

    camera = open_camera(CameraConfig(kind="fake", fps=30, quiet_time_s=0.2))
    services = KioskServices(kiosk, printer=FakePrinter(), camera=camera)
    everyday = camera.reader
    try:
        read: list[str] = []
        seen = threading.Event()

        def on_waybill(text: str) -> None:
            read.append(text)
            seen.set()

        def show(text: str) -> None:
            made = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
            bars = np.pad(np.asarray(made.to_image(scale=2), np.uint8), 20, constant_values=255)
            frame = synth_frame(bars, Conditions(code_fraction=0.85), (640, 480), seed=3)
            camera.source.push_frame(frame, hold_frames=15)

        made = zxingcpp.create_barcode("SF1", zxingcpp.BarcodeFormat.Code128)
        bars = np.pad(np.asarray(made.to_image(scale=2), np.uint8), 20, constant_values=255)
        assert FastReader().decode(synth_frame(bars, Conditions(code_fraction=0.85))) == []
        services.start_waybill_scan(on_waybill)
        assert camera.reader is not everyday
        for text in ("SF1234567890123", "SF12\t34"):
            seen.clear()
            show(text)
            assert seen.wait(10), f"{text!r} not read"
        assert read == ["SF1234567890123", "SF12\t34"]
        assert services.waybill_problem(read[0]) == ("", 64)
        assert services.waybill_problem(read[1]) == ("unprintable", 64)
        assert services.waybill_problem("W" * 200) == ("too_long", 64)
        assert services.waybill_problem("   ") == ("blank", 64)
        services.stop_waybill_scan()
        assert camera.reader is everyday
    finally:
        services.close()
