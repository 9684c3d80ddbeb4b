"""Making models into styles: export to ONNX, verification, bundle writing.

``export`` needs torch (the ``train`` extra) and imports it; ``bundle_writer`` and
``onnx_import`` do not, so importing an ONNX file works on a serving-only install.
Nothing here is imported by the server.
"""
