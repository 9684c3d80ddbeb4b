"""Languages of the e-mails and the link pages: English and Spanish, picked per submission."""

from __future__ import annotations

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"

#: Every sentence a user reads in a message or on a link page, per language.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "subject_succeeded": "Your {style} picture is ready",
        "subject_failed": "We could not finish your {style} picture",
        "greeting": "Hello,",
        "ready": "Your picture in the {style} style is ready.",
        "preview_caption": "Preview (smaller, watermarked):",
        "download": "Download the full-size picture",
        "view_preview": "See the preview",
        "link_expires": "These links work until {expires} (UTC). After that the picture is "
        "deleted from our servers.",
        "failed": "Sorry, we could not turn your photo into the {style} style.",
        "reason": "Reason: {reason}",
        "try_again": "You can try again with another photo at {site}.",
        "why": "You get this message because this address was given with the photo. We do "
        "not keep it after the job's record is deleted.",
        "privacy": "How long we keep things",
        "link_invalid_title": "This link does not work",
        "link_invalid_body": "The link is incomplete or has been changed. Please use the "
        "link from the message exactly as it was sent.",
        "link_expired_title": "This link has expired",
        "link_expired_body": "Links to results only work for a limited time, and the "
        "picture has been deleted since, as we promised.",
        "home": "Make a new picture",
    },
    "es": {
        "subject_succeeded": "Tu imagen con el estilo {style} está lista",
        "subject_failed": "No pudimos terminar tu imagen con el estilo {style}",
        "greeting": "Hola:",
        "ready": "Tu imagen con el estilo {style} está lista.",
        "preview_caption": "Vista previa (más pequeña, con marca de agua):",
        "download": "Descargar la imagen a tamaño completo",
        "view_preview": "Ver la vista previa",
        "link_expires": "Estos enlaces funcionan hasta el {expires} (UTC). Después, la "
        "imagen se borra de nuestros servidores.",
        "failed": "Lo sentimos, no pudimos convertir tu foto al estilo {style}.",
        "reason": "Motivo: {reason}",
        "try_again": "Puedes volver a intentarlo con otra foto en {site}.",
        "why": "Recibes este mensaje porque esta dirección se indicó junto con la foto. No la "
        "guardamos después de borrar el registro del trabajo.",
        "privacy": "Cuánto tiempo guardamos los datos",
        "link_invalid_title": "Este enlace no funciona",
        "link_invalid_body": "El enlace está incompleto o ha sido modificado. Usa el enlace "
        "del mensaje tal como se envió.",
        "link_expired_title": "Este enlace ha caducado",
        "link_expired_body": "Los enlaces a los resultados solo funcionan durante un tiempo "
        "limitado, y la imagen ya se ha borrado, como prometimos.",
        "home": "Crear una imagen nueva",
    },
}


def choose_language(explicit: str | None = None, accept_language: str | None = None) -> str:
    """The language to write to someone in: ``explicit`` if supported, else the best match.

    ``accept_language`` is an HTTP ``Accept-Language`` header (``es-ES,es;q=0.9,en;q=0.8``);
    entries are ranked by their ``q`` and matched on the primary subtag.
    """
    if explicit:
        primary = explicit.strip().lower().split("-")[0]
        if primary in LANGUAGES:
            return primary
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def text(lang: str, key: str, **values: object) -> str:
    """The sentence ``key`` in ``lang`` (English if unknown), with ``values`` filled in."""
    catalog = MESSAGES.get(lang, MESSAGES[DEFAULT_LANGUAGE])
    return catalog[key].format(**values)
