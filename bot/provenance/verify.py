"""Reading a video's Content Credentials back: who made it, with which model, when, whether
the signature holds and whether the file changed after signing (`i2vbot verify`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from bot.provenance.manifest import AI_MADE
from bot.provenance.signing import SETTINGS, one_line

UNTRUSTED = "signingCredential.untrusted"  # an operator's own chain: valid, not on a list


@dataclass(frozen=True)
class Verdict:
    found: bool  # the file carries a manifest at all
    valid: bool = False  # the signature and every hash hold
    trusted: bool = False  # the chain ends at a certificate this machine was told to trust
    changed: bool = False  # the file (or its manifest) changed after it was signed
    generator: str | None = None  # the program that signed it, with its version
    signer: str | None = None  # the certificate's name, and its issuer
    model: str | None = None
    made_by_ai: bool = False  # digital source type trainedAlgorithmicMedia
    when: str | None = None
    parent: str | None = None  # the title of the video it continues
    problems: tuple[str, ...] = ()  # what failed, in c2pa's words


def verify(path: Path, anchors: bytes | None = None) -> Verdict:
    """`anchors`: PEM certificates to trust (this bot's own CA), besides none by default.
    Raises OSError for a file that cannot be read."""
    with open(path, "rb"):  # a missing file is the caller's error, not "no credentials"
        pass
    settings: dict[str, Any] = {**SETTINGS}
    if anchors:
        settings["trust"] = {"user_anchors": anchors.decode()}
    context = c2pa.Context(settings=c2pa.Settings.from_dict(settings))
    try:
        with c2pa.Reader(str(path), context=context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return Verdict(found=False)
    except c2pa.C2paError as exc:  # not an MP4 it can parse, a broken manifest
        return Verdict(found=False, problems=(one_line(exc),))
    return _verdict(store)


def _verdict(store: dict[str, Any]) -> Verdict:
    state = store.get("validation_state")
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    failures = (store.get("validation_results", {}).get("activeManifest", {})
                .get("failure", []))
    problems = tuple(f["explanation"] for f in failures if f.get("code") != UNTRUSTED)
    actions = [a for assertion in active.get("assertions", [])
               if assertion.get("label", "").startswith("c2pa.actions")
               for a in assertion.get("data", {}).get("actions", [])]
    by_ai = [a for a in actions if a.get("digitalSourceType") == AI_MADE]
    made: dict[str, Any] = (by_ai or actions or [{}])[0]
    parameters = made.get("parameters") or {}
    signature = active.get("signature_info", {})
    generator: dict[str, Any] = next(iter(active.get("claim_generator_info", [])), {})
    parent = next((i.get("title") for i in active.get("ingredients", [])
                   if i.get("relationship") == "parentOf"), None)
    return Verdict(
        found=True, valid=state in ("Valid", "Trusted"), trusted=state == "Trusted",
        changed=any(str(f.get("code", "")).endswith(".mismatch") for f in failures),
        generator=" ".join(str(generator[k]) for k in ("name", "version") if k in generator)
        or None,
        signer=_signer(signature), model=_model(parameters, made),
        made_by_ai=made.get("digitalSourceType") == AI_MADE, when=made.get("when"),
        parent=parent, problems=problems)


def _signer(signature: dict[str, Any]) -> str | None:
    name, issuer = signature.get("common_name"), signature.get("issuer")
    if name and issuer and name != issuer:
        return f"{name}, issued by {issuer}"
    return name or issuer


def _model(parameters: dict[str, Any], action: dict[str, Any]) -> str | None:
    """This bot's own parameters name the model; another program's manifest its agent."""
    if parameters.get("model"):
        details = ", ".join(str(parameters[k]) for k in ("model", "weights")
                            if parameters.get(k))
        return f"{parameters.get('model_title') or parameters['model']} ({details})"
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        return agent.get("name")
    return str(agent) if agent else None
