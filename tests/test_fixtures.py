"""The bundled test data is whole: every map with a truth file has its three pages."""

from tests.support.pages import ARCHIVE_DIR, MAPSTATSIDS, PAGES_DIR


def test_every_map_with_a_truth_file_has_its_archived_pages():
    with_truth = sorted(
        int(path.name.removeprefix("expected-").removesuffix(".json"))
        for path in PAGES_DIR.glob("expected-[0-9]*.json")
    )
    assert MAPSTATSIDS == with_truth
    assert len(MAPSTATSIDS) == 10
    for page in ("mapstats", "performance", "economy"):
        for mapstatsid in MAPSTATSIDS:
            assert (ARCHIVE_DIR / page / f"{mapstatsid}.html.gz").exists()
            assert (ARCHIVE_DIR / page / f"{mapstatsid}.json").exists()
