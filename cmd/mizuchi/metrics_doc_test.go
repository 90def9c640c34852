package main

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// metricsDoc is the catalogue of every series (one table line per family).
const metricsDoc = "../../docs/METRICS.md"

var (
	// docLine is one catalogue line: | `name` | type | labels | meaning |
	// (labels may be empty, the meaning may not).
	docLine = regexp.MustCompile("^\\| `(mizuchi_[a-z0-9_]+)` \\| (counter|gauge|histogram) \\|[^|]*\\|[^|]*[^| ][^|]*\\|$")
	// metricName finds series names in string literals.
	metricName = regexp.MustCompile(`mizuchi_[a-z0-9_]*[a-z0-9]`)
)

// docFamilies reads the catalogue: family name -> type. A line that starts
// like a catalogue line but does not parse, and a name listed twice, fail.
func docFamilies(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := make(map[string]string)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `mizuchi_") {
			continue
		}
		m := docLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%s:%d: not a catalogue line (| `name` | counter|gauge|histogram | labels | meaning |): %q", metricsDoc, n, line)
			continue
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("%s:%d: %s is listed twice", metricsDoc, n, m[1])
		}
		out[m[1]] = m[2]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s lists no series", metricsDoc)
	}
	return out
}

// sourceFamilies returns the series names written in string literals of
// the gateway's Go source (every package of the module but tests, bench/
// and fuzz/), with the files that name them.
func sourceFamilies(t testing.TB) map[string][]string {
	t.Helper()
	root := "../.."
	out := make(map[string][]string)
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "bench", "fuzz", "testdata", "scripts":
				return filepath.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		tags := make(map[*ast.BasicLit]bool) // struct tags name no series
		ast.Inspect(file, func(n ast.Node) bool {
			if f, ok := n.(*ast.Field); ok && f.Tag != nil {
				tags[f.Tag] = true
			}
			return true
		})
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || tags[lit] {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, name := range metricName.FindAllString(s, -1) {
				if !slices.Contains(out[name], rel) {
					out[name] = append(out[name], rel)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMetricsDocumented keeps docs/METRICS.md and the source in step:
// every series name in the source has a catalogue line, and every
// catalogue line names a series the source still registers. (The running
// gateway's /metrics is checked against the catalogue by TestE2EMetrics.)
func TestMetricsDocumented(t *testing.T) {
	doc := docFamilies(t)
	src := sourceFamilies(t)
	for name, files := range src {
		if _, ok := doc[name]; !ok {
			t.Errorf("%s (registered in %s) has no line in docs/METRICS.md: add | `%s` | type | labels | meaning |", name, strings.Join(files, ", "), name)
		}
	}
	for name := range doc {
		if _, ok := src[name]; !ok {
			t.Errorf("docs/METRICS.md lists %s, which no source file registers any more: remove its line", name)
		}
	}
}
