"""The event's own questions, asked of everyone who registers: one validation for the organiser
form and the API, and the write that keeps answers pointing at the questions they answered.

Once anyone has registered, their answers refer to the questions by id: a question can no longer
be removed, change its kind or options, or become required. Its wording may still be corrected
and new optional questions added (a required one would make the earlier registrations
incomplete)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Event, Question, QuestionKind, Registration
from ...timeutil import utcnow
from ..errors import ValidationFailed
from ..identity import normalise_id_number

MAX_QUESTIONS = 20
MAX_LABEL = 200
MAX_OPTIONS = 30
MAX_OPTION = 100
MAX_TEXT_ANSWER = 500
_MARKUP = re.compile(r"[<>]")
MIN_OPTIONS = 2
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


@dataclass
class QuestionDraft:
    """One question as an organiser typed it, from the form or the API, before validation."""

    label: str
    kind: str
    required: bool = True
    options: list[str] = field(default_factory=list)  # single and multiple choice only
    id: int | None = None  # an existing question being edited
    # The answer is shown at the door with the ticket (and in the door's offline ticket list).
    show_at_door: bool = False


def has_registrations(event_id: int) -> bool:
    """Any registration at all, cancelled ones too: their answers are still kept."""
    return bool(db.session.scalar(
        select(func.count(Registration.id)).where(Registration.event_id == event_id)
    ))


# --- validation -----------------------------------------------------------------------------


def validate(event: Event, drafts: list[QuestionDraft]) -> dict[str, str]:
    """Every rule about an event's questions. Returns {`questions.N.field`: message}."""
    errors: dict[str, str] = {}
    if not isinstance(drafts, list | tuple):
        return {"questions": _("Give the questions as a list.")}
    if len(drafts) > MAX_QUESTIONS:
        return {"questions": _("At most %(n)d questions per event.", n=MAX_QUESTIONS)}
    known = {q.id: q for q in event.questions}
    locked = has_registrations(event.id)
    seen: set[int] = set()
    id_cards = 0
    for i, draft in enumerate(drafts):
        p = f"questions.{i}."
        old = known.get(draft.id) if draft.id is not None else None
        if draft.id is not None and (old is None or draft.id in seen):
            errors[p + "id"] = _("This question does not belong to the event.")
            continue
        if old is not None:
            seen.add(old.id)
        _check_label(errors, p, draft.label)
        kind = _kind(draft.kind)
        if kind is None:
            errors[p + "kind"] = _("Choose a kind of question.")
        elif kind == QuestionKind.ID_CARD:
            id_cards += 1
            if id_cards > 1:
                errors[p + "kind"] = _("Ask for an ID-card number at most once per event.")
        if not isinstance(draft.required, bool):
            errors[p + "required"] = _("Say whether an answer is required: true or false.")
        if not isinstance(draft.show_at_door, bool):
            errors[p + "show_at_door"] = _("Say whether the answer is shown at the door: true "
                                           "or false.")
        options = _check_options(errors, p, kind, draft.options)
        if locked:
            _check_locked(errors, p, old, kind, options, draft.required)
    if locked and not any(key.endswith(".id") for key in errors):
        removed = [q for q in event.questions if q.id not in seen]
        if removed:
            errors["questions"] = _(
                "People have already registered, so no question can be removed: their answers "
                "refer to it. You may correct its wording instead."
            )
    return errors


def _kind(value) -> QuestionKind | None:
    if isinstance(value, str) and value in {k.value for k in QuestionKind}:
        return QuestionKind(value)
    return None


def _check_label(errors: dict, p: str, label) -> None:
    if not isinstance(label, str) or not label.strip():
        errors[p + "label"] = _("Write the question.")
    elif len(label.strip()) > MAX_LABEL:
        errors[p + "label"] = _("At most %(n)d characters.", n=MAX_LABEL)


def _check_options(errors: dict, p: str, kind: QuestionKind | None, options) -> list[str]:
    """The cleaned options; their rules depend on the kind, so an unknown kind checks nothing."""
    if options is None:
        options = []
    if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
        errors[p + "options"] = _("Give the options as a list of texts.")
        return []
    cleaned = [o.strip() for o in options]
    key = p + "options"
    if kind is None:
        return cleaned
    if kind not in CHOICE_KINDS:
        if cleaned:
            errors[key] = _("Only single- and multiple-choice questions have options. "
                            "Remove them, or choose one of those kinds.")
    elif len(cleaned) < MIN_OPTIONS:
        errors[key] = _("Give at least %(n)d options, one per line.", n=MIN_OPTIONS)
    elif len(cleaned) > MAX_OPTIONS:
        errors[key] = _("At most %(n)d options.", n=MAX_OPTIONS)
    elif any(not o for o in cleaned):
        errors[key] = _("Every option needs a text.")
    elif any("\n" in o or "\r" in o for o in cleaned):
        errors[key] = _("An option is one line of text.")
    elif any(len(o) > MAX_OPTION for o in cleaned):
        errors[key] = _("An option has at most %(n)d characters.", n=MAX_OPTION)
    elif len(set(cleaned)) != len(cleaned):
        errors[key] = _("Each option must be different.")
    return cleaned


def _check_locked(errors: dict, p: str, old: Question | None, kind: QuestionKind | None,
                  options: list[str], required) -> None:
    """After the first registration: wording may change, what the answers mean may not."""
    if old is None:
        if required is True:
            errors[p + "required"] = _(
                "People have already registered without answering this new question, so it "
                "must be optional."
            )
        return
    if kind is not None and kind != old.kind:
        errors[p + "kind"] = _(
            "People have already answered this question, so its kind cannot change. Add a new "
            "optional question instead."
        )
    elif kind in CHOICE_KINDS and options != old.choices and p + "options" not in errors:
        errors[p + "options"] = _(
            "People have already chosen from these options, so they cannot change. Add a new "
            "optional question instead."
        )
    if required is True and not old.required:
        errors[p + "required"] = _(
            "People have already registered without answering this question, so it cannot "
            "become required."
        )


# --- writing --------------------------------------------------------------------------------


def set_questions(event: Event, drafts: list[QuestionDraft]) -> list[Question]:
    """Replace the event's questions by the drafts, in their order. One transaction."""
    errors = validate(event, drafts)
    if errors:
        db.session.rollback()
        raise ValidationFailed(errors)
    old = list(event.questions)
    shown_before = _shown_at_door(old)
    kept_ids = {d.id for d in drafts if d.id is not None}
    # Positions are unique per event: park the questions that stay on negative positions and
    # delete the others first, so no row ever collides with another on its way to its place.
    for q in old:
        if q.id in kept_ids:
            q.position = -1 - q.position
        else:
            db.session.delete(q)
    try:
        db.session.flush()
        by_id = {q.id: q for q in old}
        questions = []
        for position, draft in enumerate(drafts):
            q = by_id[draft.id] if draft.id is not None else Question()
            _apply(q, draft, position)
            questions.append(q)
        event.questions = questions
        if _shown_at_door(questions) != shown_before:
            # What the door shows of every ticket changed: the door devices' ticket lists take
            # every ticket again with their next changes (services/door/ticket_list.py).
            db.session.execute(update(Registration).where(Registration.event_id == event.id)
                               .values(updated_at=utcnow())
                               .execution_options(synchronize_session=False))
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ValidationFailed(
            {"questions": _("Someone else changed the questions while you edited. Reload the "
                            "page and try again.")}
        ) from exc
    return questions


def _shown_at_door(questions: list[Question]) -> list[tuple]:
    """What the door shows of the answers: which questions, under which words."""
    return [(q.id, q.label) for q in questions if q.show_at_door]


def _apply(q: Question, draft: QuestionDraft, position: int) -> None:
    kind = QuestionKind(draft.kind)
    q.position = position
    q.kind = kind
    q.label = draft.label.strip()
    q.required = draft.required
    q.show_at_door = draft.show_at_door
    q.options = "\n".join(o.strip() for o in draft.options or []) if kind in CHOICE_KINDS else ""


# --- the answers of a registrant ---------------------------------------------------------------


def validate_answers(answers, questions: list[Question], errors: dict) -> dict[int, str]:
    """A registrant's answers to the event's questions, {question id: value to store}; what is
    wrong goes into `errors` under `answers.<question id>` (the API's field names)."""
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        errors["answers"] = _("Answers must be given per question.")
        return {}
    given = {str(k): v for k, v in answers.items()}
    known = {str(q.id) for q in questions}
    for key in given:
        if key not in known:
            errors[f"answers.{key}"] = _("This event has no such question.")
    clean: dict[int, str] = {}
    for q in questions:
        key = f"answers.{q.id}"
        value = given.get(str(q.id))
        blank = value is None or value == "" or value == []
        if blank:
            if q.required:
                errors[key] = _("Please answer this question.")
            continue
        stored, message = _check_answer(q, value)
        if message:
            errors[key] = message
        else:
            clean[q.id] = stored
    return clean


def _check_answer(q: Question, value) -> tuple[str, str | None]:
    """The value to store, or an error message."""
    if q.kind == QuestionKind.MULTIPLE:
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v in q.choices for v in values):
            return "", _("Choose from the options given.")
        return "\n".join(dict.fromkeys(values)), None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return "", _("This answer has the wrong type.")
    text = str(value).strip()
    if q.kind == QuestionKind.SINGLE:
        return (text, None) if text in q.choices else ("", _("Choose one of the options given."))
    if q.kind == QuestionKind.NUMBER:
        try:
            number = float(text)
        except ValueError:
            return "", _("Enter a number.")
        if number != number or abs(number) > 1e9:  # NaN or absurd
            return "", _("Enter a number.")
        return text, None
    if q.kind == QuestionKind.ID_CARD:
        checked = normalise_id_number(text)
        if checked is None:
            return "", _("This is not a valid 18-character resident ID number.")
        return checked, None
    if len(text) > MAX_TEXT_ANSWER:
        return "", _("At most %(n)d characters.", n=MAX_TEXT_ANSWER)
    if _MARKUP.search(text):
        return "", _("An answer cannot contain < or >.")
    return text, None


# --- what the door shows -------------------------------------------------------------------------

_ID_LIKE = re.compile(r"[0-9]{17}[0-9Xx]", re.ASCII)
_SHORTEST_ID = 18  # characters of a resident ID number; typed with spaces, more


def door_value(kind: str, value: str) -> str:
    """An answer as the door shows it (a scan's answer, the door's ticket list): a whole
    resident ID number only as "…" and its last four characters (the factory checks those
    against the card); anything else as typed."""
    value = (value or "").strip()
    if kind == QuestionKind.ID_CARD or len(value) >= _SHORTEST_ID and (
            _ID_LIKE.fullmatch(value) or normalise_id_number(value)):
        return "…" + value[-4:] if len(value) > 4 else value
    return value
