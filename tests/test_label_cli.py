"""``scout label`` on small files in tmp_path: the real local model, and a litellm model talking
over loopback HTTP to the scripted server of tests/llm_server.py (no mock inside litellm)."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from scout_cli.label import add_label_parser, main, read_profiles, run_label
from scout_contract.audience import AUDIENCES_DIR
from scout_contract.paths import PROJECT_ROOT
from tests.llm_server import FakeLLMServer

AUDIENCE = str(AUDIENCES_DIR / "thelai_customers.v3.json")
PROFILES = [
    {"handle": "qual_prof", "name": "Jane Roe", "bio": "Qualitative sociologist: ethnography and interviews with migrant families at a university.", "category": None, "followers": 800, "llm_label": True},
    {"handle": "crypto_guy", "name": "Moon Boy", "bio": "Crypto trader. Memecoins and sports betting.", "category": "Finance", "followers": 12000, "llm_label": False},
    {"handle": "epi_md", "name": "Sam Poe, MD", "bio": "Physician and research epidemiologist at an academic medical center.", "category": None, "followers": 300, "llm_label": None},
    {"handle": "policy_centre", "name": "Centre for Health Policy", "bio": "Research news from our centre.", "category": None, "followers": 5000, "llm_label": None},
]  # fmt: skip


def write_jsonl(path: Path, rows: list[dict], *, drop: tuple[str, ...] = ()) -> Path:
    path.write_text(
        "".join(json.dumps({k: v for k, v in row.items() if k not in drop}) + "\n" for row in rows)
    )
    return path


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [
                    "null"
                    if row.get(c) is None
                    else str(row[c]).lower()
                    if isinstance(row[c], bool)
                    else row[c]
                    for c in columns
                ]
            )
    return path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scout")
    add_label_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["label", *argv])


def run(*argv: str) -> int:
    args = parse(*argv)
    assert args.func is run_label and args.handler is run_label
    return args.func(args)


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_local_model_labels_a_jsonl_file(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PROFILES, drop=("llm_label",))
    out = tmp_path / "deeper" / "labels.jsonl"
    assert (
        run("--model", "local-minilm", "--audience", AUDIENCE, "--input", str(source), "--output", str(out))
        == 0
    )
    written = read_output(out)
    assert [row["handle"] for row in written] == [p["handle"] for p in PROFILES]
    for row in written:
        assert set(row) == {"handle", "label", "reason", "model", "audience", "prompt_version"}
        assert row["label"] in (True, False, None) and row["reason"]
        assert (row["model"], row["audience"]) == ("local/all-MiniLM-L6-v2", "thelai_customers.v3")
    assert written[3]["label"] is False and "not an individual" in written[3]["reason"]
    printed = capsys.readouterr().out
    assert "labeled 4 of 4 profiles with local-minilm" in printed
    counts = {
        name: sum(row["label"] is value for row in written)
        for name, value in (("true", True), ("false", False), ("null", None))
    }
    assert all(f"{name} {count} (" in printed for name, count in counts.items())
    assert "cost USD 0.000000" in printed and "failures: 0" in printed
    assert "agreement" not in printed  # no reference column, no agreement figures


def test_reference_column_in_csv_gives_agreement_and_baselines(tmp_path, capsys):
    source = write_csv(
        tmp_path / "in.csv", PROFILES, ["handle", "name", "bio", "category", "followers", "llm_label"]
    )
    out = tmp_path / "labels.jsonl"
    assert (
        run(
            "--model",
            "local-minilm",
            "--audience",
            "thelai_customers.v3",
            "--input",
            str(source),
            "--output",
            str(out),
            "--batch-size",
            "3",
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "agreement with the input's reference labels (4 profiles)" in printed
    assert "kappa=" in printed and "baseline always-null" in printed
    assert len(read_output(out)) == 4
    # the same figures come out when the column is called "label" and the file is JSON lines
    renamed = [
        {**{k: v for k, v in p.items() if k != "llm_label"}, "label": p["llm_label"]} for p in PROFILES
    ]
    source2 = write_jsonl(tmp_path / "in2.jsonl", renamed)
    assert (
        run("--model", "local-minilm", "--audience", AUDIENCE, "--input", str(source2), "--output", str(out))
        == 0
    )
    assert capsys.readouterr().out.split("agreement with")[1] == printed.split("agreement with")[1]


def test_limit_and_split_select_profiles(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PROFILES)
    out = tmp_path / "labels.jsonl"
    assert (
        run(
            "--model",
            "local-minilm",
            "--audience",
            AUDIENCE,
            "--input",
            str(source),
            "--output",
            str(out),
            "--limit",
            "2",
        )
        == 0
    )
    assert [row["handle"] for row in read_output(out)] == ["qual_prof", "crypto_guy"]
    from scout_assets.labeling.agreement import split_of

    assert (
        run(
            "--model",
            "local-minilm",
            "--audience",
            AUDIENCE,
            "--input",
            str(source),
            "--output",
            str(out),
            "--split",
            "report",
        )
        == 0
    )
    assert [row["handle"] for row in read_output(out)] == [
        p["handle"] for p in PROFILES if split_of(p["handle"]) == "report"
    ]


def fake_models_file(tmp_path: Path, url: str, *, key_env: str | None = None) -> Path:
    key_line = f"    api_key_env: {key_env}\n" if key_env else ""
    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n"
        "  fake-llm:\n"
        "    litellm_model: openai/fake-model\n    provider: openai\n    probability: 1.0\n    batch_size: 2\n"
        f"    api_base: {url}\n{key_line}"
        "    input_cost_per_token: 1.0e-6\n    output_cost_per_token: 2.0e-6\n"
    )
    return path


def test_a_litellm_model_labels_through_its_endpoint(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PROFILES)
    out = tmp_path / "labels.jsonl"
    with FakeLLMServer("good") as server:
        models = fake_models_file(tmp_path, server.url)
        code = run(
            "--model",
            "fake-llm",
            "--models-file",
            str(models),
            "--audience",
            AUDIENCE,
            "--input",
            str(source),
            "--output",
            str(out),
        )
    assert code == 0
    assert len(server.requests) == 2  # 4 profiles, batch_size 2
    written = read_output(out)
    # the scripted model: 'qualitative' in the bio -> true, other 'research' -> null, else false
    assert [row["label"] for row in written] == [True, False, None, None]
    assert {row["model"] for row in written} == {"openai/fake-model"}
    printed = capsys.readouterr().out
    input_tokens = int(printed.split("tokens: input ")[1].split(",")[0])
    assert input_tokens > 0 and "cost USD 0.000000" not in printed


def test_partial_answers_are_reported_as_failures(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PROFILES)
    out = tmp_path / "labels.jsonl"
    with FakeLLMServer("partial") as server:
        code = run(
            "--model",
            "fake-llm",
            "--models-file",
            str(fake_models_file(tmp_path, server.url)),
            "--audience",
            AUDIENCE,
            "--input",
            str(source),
            "--output",
            str(out),
        )
    assert code == 1
    printed = capsys.readouterr().out
    # per batch of 2, 'partial' drops the last answer and corrupts the first: nothing survives
    assert "failures: 4" in printed and "qual_prof (line 1):" in printed
    assert read_output(out) == []


def test_missing_api_key_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SCOUT_TEST_ABSENT_KEY", raising=False)
    source = write_jsonl(tmp_path / "in.jsonl", PROFILES)
    models = fake_models_file(tmp_path, "http://127.0.0.1:9/v1", key_env="SCOUT_TEST_ABSENT_KEY")
    code = run(
        "--model",
        "fake-llm",
        "--models-file",
        str(models),
        "--audience",
        AUDIENCE,
        "--input",
        str(source),
        "--output",
        str(tmp_path / "o.jsonl"),
    )
    assert code == 2
    assert "SCOUT_TEST_ABSENT_KEY is not set" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        (
            "in.jsonl",
            '{"handle": "a", "name": "A", "bio": "x"}\n{"handle": "b", "name": \n',
            r"in.jsonl:2: invalid JSON",
        ),
        ("in.jsonl", '{"handle": "a", "name": "A"}\n', r"in.jsonl:1: missing column\(s\) bio"),
        ("in.jsonl", "[1, 2]\n", r"in.jsonl:1: expected a JSON object, got list"),
        ("in.jsonl", '{"handle": "", "name": "A", "bio": "x"}\n', r"in.jsonl:1: column 'handle' is empty"),
        (
            "in.jsonl",
            '\n{"handle": "a", "name": "A", "bio": "x", "llm_label": "maybe"}\n',
            r"in.jsonl:2: column 'llm_label' must be true, false or null",
        ),
        ("in.csv", "handle,bio\na,x\n", r"in.csv:1: missing column\(s\) name \(header: handle, bio\)"),
        (
            "in.csv",
            "handle,name,bio,followers\na,A,x,10\nb,B,y,many\n",
            r"in.csv:3: column 'followers' must be a whole number",
        ),
        ("in.csv", "handle,name,bio\na,A,x\nb,B,y,extra\n", r"in.csv:3: expected 3 fields"),
        ("in.txt", "handle,name,bio\n", r"in.txt: unsupported input type '.txt'"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, file_name, content, message):
    path = tmp_path / file_name
    path.write_text(content)
    from scout_cli.label import InputError

    with pytest.raises(InputError, match=message):
        read_profiles(path)


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", PROFILES)
    cases = [
        (["--model", "local-minilm", "--input", str(tmp_path / "nope.jsonl")], "nope.jsonl: no such file"),
        (
            ["--model", "gpt-nine", "--input", str(source)],
            "unknown model alias 'gpt-nine' (known: claude-haiku-4.5",
        ),
        (
            ["--model", "local-minilm", "--input", str(source), "--audience", "no_such.v1"],
            "audience 'no_such.v1': not a .json file",
        ),
        (
            ["--model", "local-minilm", "--input", str(source), "--output", str(source)],
            "would overwrite the input",
        ),
        (
            ["--model", "local-minilm", "--input", str(source), "--audience", str(tmp_path / "x.v1.json")],
            "x.v1.json: no such file",
        ),
    ]
    for extra, message in cases:
        argv = {"--audience": AUDIENCE, "--output": str(tmp_path / "o.jsonl")}
        argv.update(dict(zip(extra[::2], extra[1::2], strict=True)))
        assert run(*[item for pair in argv.items() for item in pair]) == 2, message
        assert message in capsys.readouterr().err


def test_reads_defaults_for_optional_columns(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('handle,name,bio\n@Some_One,"Roe, Jane","Ethnographer, qualitative"\n')
    (row,) = read_profiles(path)
    assert (row.profile.handle, row.profile.name, row.profile.category, row.profile.followers) == (
        "Some_One",
        "Roe, Jane",
        None,
        0,
    )
    assert row.line == 2 and not row.has_reference
    path.write_text(
        "handle,name,bio,category,followers,label\na,A,x,null,null,null\nb,B,y,Science,1200,TRUE\n"
    )
    first, second = read_profiles(path)
    assert (first.profile.category, first.profile.followers, first.reference, first.has_reference) == (
        None,
        0,
        None,
        True,
    )
    assert (second.profile.category, second.profile.followers, second.reference) == ("Science", 1200, True)


def test_module_entry_point(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", PROFILES)
    done = subprocess.run(
        [sys.executable, "-m", "scout_cli.label", "--model", "nope", "--audience", AUDIENCE,
         "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "unknown model alias 'nope'" in done.stderr
    common = [
        "--model",
        "nope",
        "--audience",
        AUDIENCE,
        "--input",
        str(source),
        "--output",
        str(tmp_path / "o.jsonl"),
    ]
    assert main(common) == main(["label", *common]) == 2
