"""Print the demo tokens and a ready ``curl`` that posts the sample checklist (``make run``)."""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKENS = ROOT / "instance" / "demo-tokens.txt"
LOGINS = ROOT / "instance" / "demo-logins.txt"
SAMPLE = "docs/examples/inspection-dukcapil-sidoarjo.json"


def main() -> int:
    """Read the tokens seed-demo wrote and print them with example commands."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    args = parser.parse_args()
    if not TOKENS.exists():
        print("no demo tokens found; run `flask --app app seed-demo`", file=sys.stderr)
        return 1
    if LOGINS.exists():
        logins = [line.split("\t") for line in LOGINS.read_text().splitlines() if line]
        print(f"\nfieldcheck web app: open {args.url}/ and log in (demo passwords)")
        for role, region, name, username, password in logins:
            if role != "surveyor":
                print(f"  {role:<10} {region:<9} {name:<34} {username:<18} {password}")
        print("  (surveyors use the phone API; their logins are in instance/demo-logins.txt)")
    rows = [line.rstrip("\n").split("\t") for line in TOKENS.read_text().splitlines() if line]
    print(
        "\nfieldcheck demo: tokens (valid until the next `make run`; tokens an admin issues"
        " on a user's page, e.g. for ODK Collect, stay valid)"
    )
    for role, region, name, token in rows:
        print(f"  {role:<10} {region:<9} {name:<34} {token}")
    surveyor = next(t for r, reg, _, t in rows if r == "surveyor" and reg == "35")
    supervisor = next(t for r, reg, _, t in rows if r == "supervisor" and reg == "35")
    port = args.url.rsplit(":", 1)[-1]
    print(f"""
Post the sample checklist (Disdukcapil Sidoarjo) as the Jawa Timur surveyor:

  curl -sS -X POST {args.url}/api/v1/inspections \\
    -H 'Authorization: Bearer {surveyor}' \\
    -H 'Content-Type: application/json' --data @{SAMPLE}

Run it twice: 201 the first time, 200 with the same id after. Then, as the supervisor:

  curl -sS {args.url}/api/v1/inspections -H 'Authorization: Bearer {supervisor}'

ODK Collect: the same surveyor's server URL (or log in as an admin, open the surveyor's page
and press "Siapkan ODK Collect" for a QR code). A phone needs an address it can reach, e.g.
`FIELDCHECK_PUBLIC_BASE_URL=http://<this machine's LAN address>:{port} make run HOST=0.0.0.0`.

  {args.url}/openrosa/key/{surveyor}

Metode 2022 (four dimensions, interviews): choose methodology ombudsman-2022 on the overview
({args.url}/?methodology=ombudsman-2022&level=agency), or open the run from the runs page:
Sidoarjo's government (PEMKAB-35.15) is zoned from its four dimensions, Padang's
(PEMKOT-13.71) is "Belum lengkap" (29 of 30 service-user interviews). Coverage:
Cakupan wawancara in the menu.

A folder of checklists (JSON, with their photos) from your own tools:

  FIELDCHECK_TOKEN={surveyor} .venv/bin/python -m fieldcheck.client.sync --server {args.url} FOLDER
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
