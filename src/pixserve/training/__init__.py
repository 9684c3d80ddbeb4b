"""Making models: dataset preparation, the shared training loop and its trainers.

==================  ==========================================================  =====
module              holds                                                       torch
==================  ==========================================================  =====
``layout``          the on-disk dataset layouts, found and checked              no
``prep``            ``pixserve dataset faces|sketch|pairs|split``               no
``run``             the run folder and its ``RunConfig`` (``config.json``)      no
``data``            datasets, augmentation, the epoch sampler                   yes
``trainer``         the ``Trainer`` contract an architecture implements         yes
``loop``            the loop: epochs, schedule, logs, samples, checkpoints,     yes
                    exact resume
``pix2pix`` …       the trainers; ``registry.TRAINERS`` lists them              yes
``precision``       bf16 where the hardware makes it faster, else fp32          yes
``distributed``     one device, or one process per device under ``torchrun``    yes
``bench``           ``pixserve bench train``                                    yes
==================  ==========================================================  =====

Nothing here is imported by the server; ``pixserve export`` (in ``bundling``) turns a run
into a style bundle.
"""
