"""Cameras, code readers, identity documents and receipt printers.

    protocols     the typed seams (FrameSource, Camera, CodeReader, Printer, events)
    config        CameraConfig, PrinterConfig, DevicesConfig (pydantic; `[devices]`)
    hardware      the one guard for optional drivers, with install advice
    cameras       UVC / picamera2 / replay / fake sources and the Scanner thread
    decoders      zxing-cpp, pyzbar and the default FastReader
    identity      AAMVA PDF417, ICAO MRZ, GB 11643 numbers; hash_document_number
    mrz_ocr       the MRZ read from a frame: OpenCV finds the band, Tesseract reads it
    mrz_model     the MRZ-trained Tesseract model and its integer form
    mrz_camera    the camera loop's OCR worker, for frames with no barcode
    render        badge, roll call, test page (Pillow, at the printer's dot width)
    escpos_cache  python-escpos's profiles parsed once per machine
    escpos_codec  ESC/POS bytes (raster only for visitor text) and status mapping
    printers      python-escpos transports and the FakePrinter; open_printer
    print_queue   jobs that are never lost; retries and reprints; events
    paper         what the paper shows (the fake printer's PNGs)
    synthetic     camera-like frames of codes (fake camera, tests, benchmark)
    synthetic_mrz passport and ID-card data pages in OCR-B under a camera (tests, benchmark)
    doctor        what is attached and what is missing
    commands      plain functions for the CLI

The domain core never imports this package; this package may import kiosk.domain.
"""

from kiosk.devices.escpos_cache import use_profile_cache

use_profile_cache()  # before any module here imports python-escpos
