"""Making models into style bundles: import, export to ONNX, verification, writing, thumbnails.

=========================  =====================================================  =====
module                     does                                                   torch
=========================  =====================================================  =====
``writer``                 ``write_bundle``: style.toml (from the manifest        no
                           models), model, config.json, NOTICE.txt, thumbnail;
                           staged and renamed into place
``thumbnail``              ``thumbnail.jpg`` from a sample photo through the       no
                           style's own pipeline
``probe``                  the probe image imports are verified on                no
``onnx_import``            an ONNX file with a declared convention → a style      no
``onnx_export``            a loaded PyTorch model → ONNX, verified against torch  yes
``checkpoint_import``      ``import_checkpoint`` (a published file) and           yes
                           ``publish`` (a loaded model) → a style
=========================  =====================================================  =====

Only ``pixserve import`` (and ``pixserve export``) reach this package, lazily; the server
never does. The names below are the torch-free ones; import the torch modules by path.
"""

from pixserve.bundling.onnx_import import OnnxImportResult, import_onnx, input_name
from pixserve.bundling.probe import probe_rgb, round_up
from pixserve.bundling.thumbnail import render_thumbnail, write_thumbnail
from pixserve.bundling.writer import WrittenBundle, check_name, onnx_manifest, write_bundle
from pixserve.imaging.sample import sample_photo

__all__ = [
    "OnnxImportResult",
    "WrittenBundle",
    "check_name",
    "import_onnx",
    "input_name",
    "onnx_manifest",
    "probe_rgb",
    "render_thumbnail",
    "round_up",
    "sample_photo",
    "write_bundle",
    "write_thumbnail",
]
