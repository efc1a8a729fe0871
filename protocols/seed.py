"""The Professional Understanding as first published: four documents (English and Spanish,
texts in `protocols/data/`) and the four onboarding pathways with their knowledge checks.

`protocols_seed(apps)` is idempotent and takes an app registry, so the data migration
(historical models) and tests (`django.apps.apps`) share it. It adds only what is missing and
never touches a document or pathway an administrator changed.
"""

from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
EFFECTIVE = date(2026, 1, 1)

DOCUMENTS = [  # slug, kind, position
    ("common-vision", "common_vision", 10),
    ("notification-protocol", "notification_protocol", 20),
    ("rules-of-engagement", "rules_of_engagement", 30),
    ("communication-guidance", "communication_guidance", 40),
]

QUESTIONS = [
    ("What does a CPD notification tell an outreach organisation?",
     "¿Qué le dice una notificación del CPD a una organización de alcance?",
     [("Place, time and the number of victims (with age band, sex, fatal), never names",
       "Lugar, hora y número de víctimas (con rango de edad, sexo, si murieron), nunca nombres"),
      ("The victims' names and addresses", "Los nombres y domicilios de las víctimas"),
      ("What the investigation has found so far", "Lo que la investigación ha encontrado hasta ahora")], 0),
    ("At a scene, an officer asks an outreach worker who the shooter was. What does the protocol say?",
     "En una escena, un oficial pregunta a un trabajador de alcance quién disparó. ¿Qué dice el protocolo?",
     [("The worker must answer", "El trabajador debe responder"),
      ("No officer questions an outreach worker; a request goes to the supervisor and may be refused",
       "Ningún oficial interroga a un trabajador de alcance; una solicitud va al supervisor y puede rechazarse"),
      ("The worker answers off the record", "El trabajador responde de manera extraoficial")], 1),
    ("Who may read an outreach organisation's notes about a response?",
     "¿Quién puede leer las notas de una organización de alcance sobre una respuesta?",
     [("The district commander", "El comandante del distrito"),
      ("The portal's administrators", "Los administradores del portal"),
      ("Only the organisation itself", "Solo la propia organización")], 2),
    ("Nobody acknowledges a notification within the organisation's window. What happens?",
     "Nadie acusa recibo de una notificación dentro del plazo de la organización. ¿Qué pasa?",
     [("The portal pages the backup, then the supervisor, then the CSCC duty desk",
       "El portal avisa al suplente, luego al supervisor y luego a la mesa de guardia del CSCC"),
      ("Nothing: the notification expires", "Nada: la notificación caduca"),
      ("CPD sends an officer to the organisation", "El CPD envía un oficial a la organización")], 0),
]

ALL_DOCS = [slug for slug, _, _ in DOCUMENTS]
PATHWAYS = {  # role: (title, title_es, intro, intro_es, documents to read, sits in a review)
    "cpd_commander": ("New district commander", "Nuevo comandante de distrito",
                      "What a commander needs to run the protocol in the district: the agreement, the "
                      "organisations that cover the district, and the monthly review.",
                      "Lo que un comandante necesita para dirigir el protocolo en su distrito: el acuerdo, las "
                      "organizaciones que cubren el distrito y la revisión mensual.", ALL_DOCS, True),
    "cpd_staff": ("New CPD desk staff", "Nuevo personal de oficina del CPD",
                  "How the desk notifies outreach: what to enter, what never to relay, and who covers the district.",
                  "Cómo la oficina notifica al alcance: qué ingresar, qué nunca transmitir y quién cubre el "
                  "distrito.", ["notification-protocol", "rules-of-engagement", "communication-guidance"], False),
    "outreach_worker": ("New outreach worker", "Nuevo trabajador de alcance",
                        "What the agreement with CPD means on the street, and what you never have to tell anyone.",
                        "Lo que el acuerdo con el CPD significa en la calle, y lo que nunca tiene que contarle a "
                        "nadie.", ["common-vision", "rules-of-engagement", "communication-guidance"], False),
    "outreach_supervisor": ("New supervisor", "Nuevo supervisor",
                            "The agreement in full, the districts your organisation covers, and the monthly review.",
                            "El acuerdo completo, los distritos que cubre su organización y la revisión mensual.",
                            ALL_DOCS, True),
}


def _read(slug: str, language: str) -> tuple[str, str]:
    text = (DATA / f"{slug}.{language}.md").read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    return first.removeprefix("# ").strip(), body.strip() + "\n"


def protocols_seed(apps) -> None:
    document_model = apps.get_model("protocols", "ProtocolDocument")
    version_model = apps.get_model("protocols", "ProtocolVersion")
    documents = {}
    for slug, kind, position in DOCUMENTS:
        document, created = document_model.objects.get_or_create(slug=slug, defaults={"kind": kind,
                                                                                    "position": position})
        documents[slug] = document
        if created:
            for language in ("en", "es"):
                title, body = _read(slug, language)
                version_model.objects.create(document=document, number=1, language=language, title=title, body=body,
                                             effective_on=EFFECTIVE, change_note="First published.")
    _pathways_seed(apps, documents)


def _pathways_seed(apps, documents) -> None:
    pathway_model = apps.get_model("protocols", "Pathway")
    step_model = apps.get_model("protocols", "PathwayStep")
    question_model = apps.get_model("protocols", "KnowledgeQuestion")
    for role, (title, title_es, intro, intro_es, to_read, review) in PATHWAYS.items():
        pathway, created = pathway_model.objects.get_or_create(
            role=role, defaults={"title": title, "title_es": title_es, "intro": intro, "intro_es": intro_es})
        if not created:
            continue
        steps = []
        for slug in to_read:
            version = documents[slug].versions.get(number=1, language="en")
            spanish = documents[slug].versions.get(number=1, language="es")
            steps.append(("read_protocol", documents[slug], f"Read “{version.title}”", f"Leer «{spanish.title}»"))
        steps.append(("meet_organizations", None, "Meet the organisations covering the district",
                      "Conocer a las organizaciones que cubren el distrito"))
        if review:
            steps.append(("attend_review", None, "Sit in a monthly review", "Asistir a una revisión mensual"))
        steps.append(("knowledge_check", None, "Knowledge check", "Prueba de conocimientos"))
        for position, (kind, document, step_title, step_title_es) in enumerate(steps, start=1):
            step = step_model.objects.create(pathway=pathway, position=position, kind=kind, document=document,
                                             title=step_title, title_es=step_title_es)
            if kind == "knowledge_check":
                for number, (text, text_es, choices, answer) in enumerate(QUESTIONS, start=1):
                    question_model.objects.create(step=step, position=number, text=text, text_es=text_es,
                                                  choices=[{"en": en, "es": es} for en, es in choices],
                                                  answer=answer)
