"""What scripts/content_cache.py must hold to: a result is found again only for the same inputs,
whatever folder they sit in, and nothing is kept without a folder. Run by scripts/validate-rendered."""

import pathlib
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import content_cache  # noqa: E402


def chart(root, name, template):
    folder = root / name
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("name: demo\n")
    (folder / "templates" / "a.yaml").write_text(template)
    return folder


class ContentCacheTest(unittest.TestCase):
    def setUp(self):
        self.root = pathlib.Path(tempfile.mkdtemp())
        self.cache = content_cache.Cache(self.root / "kept", "pip")

    def test_the_same_contents_elsewhere_find_the_kept_result(self):
        key = self.cache.key("child", chart(self.root, "one", "x: 1\n"), "release")
        self.cache.put(key, "rendered")
        again = self.cache.key("child", chart(self.root, "two", "x: 1\n"), "release")
        self.assertEqual(self.cache.get(again), "rendered")

    def test_another_file_content_option_or_engine_misses(self):
        key = self.cache.key("child", chart(self.root, "one", "x: 1\n"), "release")
        self.cache.put(key, "rendered")
        for other in (
            self.cache.key("child", chart(self.root, "two", "x: 2\n"), "release"),
            self.cache.key("child", chart(self.root, "three", "x: 1\n"), "other release"),
            self.cache.key("other child", chart(self.root, "four", "x: 1\n"), "release"),
            content_cache.Cache(self.root / "kept", "PyYAML").key("child", self.root / "one", "release"),
        ):
            self.assertNotEqual(other, key)
            self.assertIsNone(self.cache.get(other))

    def test_a_file_renamed_inside_the_chart_misses(self):
        first = chart(self.root, "one", "x: 1\n")
        key = self.cache.key(first)
        second = chart(self.root, "two", "x: 1\n")
        (second / "templates" / "a.yaml").rename(second / "templates" / "b.yaml")
        self.assertNotEqual(self.cache.key(second), key)

    def test_without_a_folder_nothing_is_kept(self):
        cache = content_cache.Cache(None, "pip")
        key = cache.key("child")
        cache.put(key, "rendered")
        self.assertIsNone(cache.get(key))


if __name__ == "__main__":
    unittest.main()
