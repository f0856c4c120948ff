"""Engine commands: ``export`` here; ``detect`` and ``redact`` register alongside it.

Every long step shows a tqdm progress bar on stderr (``progress_bar``), so
stdout stays clean for the summary lines scripts may read.
"""

from __future__ import annotations

import argparse
import sys

from app.commands.progress import progress_bar
from redaction.errors import RedactionError
from redaction.export import DEFAULT_CRF, DEFAULT_PRESET, PRESETS


def _export(args: argparse.Namespace) -> int:
    if args.recording is not None:
        try:
            from app.commands.case import export_case_recording
        except ImportError:
            print("Case export is not available yet.", file=sys.stderr)
            return 1
        return int(export_case_recording(args) or 0)
    if not args.plan:
        raise RedactionError(
            "Give the plan to export with --plan tracks.json (or --recording ID for a case folder)."
        )

    # Imported here so `bwc-redact --help` stays quick.
    from redaction.manifest import export_package
    from redaction.plan import Plan, Style
    from redaction.probe import probe

    plan = Plan.load(args.plan)
    style = Style(args.style, plan.style.color) if args.style else None
    if (style or plan.style).kind != "solid":
        print(
            "bwc-redact: note: blur and pixelation can sometimes be reversed; solid fill is the safe default.",
            file=sys.stderr,
        )
    info = probe(args.input)
    with progress_bar("export", info.frame_count) as update:
        package = export_package(
            info, plan, args.output, style=style, preset=args.preset, crf=args.crf, progress=update
        )
    _print_package(package)
    return 0


def _crf(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 51:
        raise argparse.ArgumentTypeError("crf must be between 0 (best) and 51 (smallest)")
    return value


def add_release_arguments(parser: argparse.ArgumentParser, style_help: str) -> None:
    """The options every command that writes a release shares."""
    parser.add_argument("--style", choices=["solid", "blur", "pixelate"], help=style_help)
    parser.add_argument(
        "--preset", choices=PRESETS, default=DEFAULT_PRESET, help=f"x264 preset ({DEFAULT_PRESET})"
    )
    parser.add_argument(
        "--crf", type=_crf, default=DEFAULT_CRF, help=f"x264 quality, lower is better ({DEFAULT_CRF})"
    )


def register_export(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a redacted release from a plan, with a copy of the original, a manifest and checksums",
        description=(
            "Burn a redaction plan (tracks.json) into a new H.264/AAC MP4 release. Beside RELEASE.mp4 it writes "
            "RELEASE.original.EXT (read-only copy of the original), RELEASE.manifest.json and RELEASE.sha256. "
            "The original is never modified. With --recording, INPUT is a case folder and -o a new folder "
            "for the case's release package."
        ),
    )
    parser.add_argument(
        "input", metavar="INPUT", help="the original video (or a case folder with --recording)"
    )
    parser.add_argument("--plan", metavar="tracks.json", help="the redaction plan (from `bwc-redact detect`)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="RELEASE.mp4", help="release file (or folder)"
    )
    add_release_arguments(parser, style_help="override the plan's style (default: the plan's)")
    parser.add_argument("--recording", metavar="ID", help="export this recording of the case folder INPUT")
    try:
        from app.commands.case import add_user_arguments
    except ImportError:
        pass
    else:
        add_user_arguments(parser)
    parser.set_defaults(handler=_export)


def _print_package(package) -> None:  # noqa: ANN001 - redaction.manifest.ReleasePackage
    paths = package.paths
    print(f"release:   {paths.release}")
    print(f"original:  {paths.original_copy} (read-only copy)")
    print(f"manifest:  {paths.manifest}")
    print(
        f"checksums: {paths.checksums} (check with: cd {paths.checksums.parent} && sha256sum -c {paths.checksums.name})"
    )
    print(f"release sha256  {package.release_sha256}")
    print(f"original sha256 {package.original_sha256}")


def _summary(plan) -> str:  # noqa: ANN001 - redaction.plan.Plan
    minors = sum(1 for t in plan.tracks if t.possible_minor)
    faces = len(plan.tracks)
    return f"{faces} face track{'s' * (faces != 1)}, {minors} flagged as possible minor{'s' * (minors != 1)}"


def _detect(args: argparse.Namespace) -> int:
    if args.recording is not None:
        from app.commands.case import detect_case_recording

        return int(detect_case_recording(args) or 0)
    if not args.output:
        raise RedactionError("Give the plan file to write with -o tracks.json (or --recording ID for a case folder).")
    from redaction.pipeline import detect_faces
    from redaction.probe import probe

    info = probe(args.input)
    with progress_bar("detect", info.frame_count) as update:
        plan = detect_faces(info, progress=update)
    plan.save(args.output)
    print(f"plan:      {args.output} ({_summary(plan)})")
    return 0


def _redact(args: argparse.Namespace) -> int:
    from redaction.pipeline import redact

    # The release path is checked (and nothing written) before the long part starts.
    from redaction.plan import Style
    from redaction.probe import probe

    info = probe(args.input)
    style = Style(args.style) if args.style else None
    with progress_bar("redact", info.frame_count) as update:
        result = redact(info, args.output, style=style, preset=args.preset, crf=args.crf, progress=update)
    _print_package(result.package)
    print(f"faces:     {_summary(result.plan)}; took {result.seconds:.1f} s")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    redact = subparsers.add_parser(
        "redact",
        help="one shot: find every face and write a redacted release package",
        description=(
            "Detect and track every face in INPUT, hide each with a solid box, and write RELEASE.mp4 beside "
            "RELEASE.original.EXT (read-only copy of the untouched original), RELEASE.manifest.json (hashes, "
            "the plan of every box burned, engine and model versions) and RELEASE.sha256. Detection and "
            "encoding share one pass over the video. To review faces before releasing, use `detect`, edit "
            "the plan (or use the window), then `export`."
        ),
    )
    redact.add_argument("input", metavar="INPUT", help="the original video (never modified)")
    redact.add_argument("-o", "--output", required=True, metavar="RELEASE.mp4", help="release file to write")
    add_release_arguments(redact, style_help="box style (default solid)")
    redact.set_defaults(handler=_redact)

    detect = subparsers.add_parser(
        "detect",
        help="find and track every face; write an editable plan (tracks.json)",
        description=(
            "Detect and track every face in INPUT and write the redaction plan: one track per face as "
            "keyframes (boxes, padding included), possible minors flagged with the evidence. Every face "
            "starts as 'redact'. Edit the plan, then write the release with `bwc-redact export INPUT "
            "--plan tracks.json -o RELEASE.mp4`."
        ),
    )
    detect.add_argument("input", metavar="INPUT", help="the original video (or a case folder with --recording)")
    detect.add_argument("-o", "--output", metavar="tracks.json", help="plan file to write")
    detect.add_argument(
        "--recording", metavar="ID", help="detect in this recording of the case folder INPUT and record it there"
    )
    detect.add_argument(
        "--replace", action="store_true", help="with --recording: replace the recording's current tracks"
    )
    try:
        from app.commands.case import add_user_arguments
    except ImportError:
        pass
    else:
        add_user_arguments(detect)
    detect.set_defaults(handler=_detect)

    register_export(subparsers)


__all__ = ["progress_bar", "register", "register_export"]
