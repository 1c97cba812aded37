package websocket_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestExportedIdentifiersDocumented fails when an exported identifier of
// the package has no doc comment, or one that does not begin with its name.
// It reads every non-test source file, whatever its build tags, so that the
// assembly and pure-Go variants are both held to it.
func TestExportedIdentifiersDocumented(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var problems []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "websocket" {
			continue
		}
		problems = append(problems, undocumented(fset, f)...)
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		t.Errorf("%d exported identifiers lack a proper doc comment:\n\t%s", len(problems), strings.Join(problems, "\n\t"))
	}
}

// TestDocCheckFindsOffenders runs the check on a file with every kind of
// omission, so that a check that passes everything cannot go unnoticed.
func TestDocCheckFindsOffenders(t *testing.T) {
	const src = `package websocket

// Good is documented.
type Good struct {
	// Field is documented.
	Field int
	hidden int
}

type Bad int

// Documented, but not by its name.
func Wrong() {}

func Missing() {}

// Method is documented.
func (Good) Method() {}

func (Good) Undocumented() {}

func (*unexported) Skipped() {}

// Values in a documented group.
const (
	A = 1
	B = 2
)

const Loose = 3

var (
	// V is documented.
	V = 1
	W = 2
)

// An Article may start a type's comment.
type Article int
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range undocumented(fset, f) {
		names = append(names, p[strings.Index(p, " ")+1:])
	}
	want := []string{"type Bad", "func Wrong", "func Missing", "method Good.Undocumented", "const Loose", "var W"}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("offenders = %q, want %q", names, want)
	}
}

// undocumented returns "file:line kind name" for each exported identifier
// of f without a doc comment beginning with its name: types, functions,
// methods of exported types, and constants and variables (a group's doc
// comment covers its members). Struct fields are not checked: a type's doc
// comment may describe small ones, as CloseError's does.
func undocumented(fset *token.FileSet, f *ast.File) []string {
	var out []string
	report := func(pos token.Pos, kind, name string) {
		p := fset.Position(pos)
		out = append(out, p.Filename+":"+strconv.Itoa(p.Line)+" "+kind+" "+name)
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			kind, name := "func", d.Name.Name
			if d.Recv != nil {
				recv := receiverType(d.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue
				}
				kind, name = "method", recv+"."+d.Name.Name
			}
			if !startsWithName(d.Doc, d.Name.Name, false) {
				report(d.Pos(), kind, name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					doc := s.Doc
					if doc == nil && len(d.Specs) == 1 {
						doc = d.Doc
					}
					if !startsWithName(doc, s.Name.Name, true) {
						report(s.Pos(), "type", s.Name.Name)
					}
				case *ast.ValueSpec:
					kind := "var"
					if d.Tok == token.CONST {
						kind = "const"
					}
					for _, n := range s.Names {
						if !n.IsExported() {
							continue
						}
						grouped := d.Lparen.IsValid() && d.Doc != nil
						if !grouped && s.Doc == nil && s.Comment == nil && d.Doc == nil {
							report(n.Pos(), kind, n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

// startsWithName reports whether doc begins with name; a type's may begin
// with an article first ("A Conn is...").
func startsWithName(doc *ast.CommentGroup, name string, article bool) bool {
	if doc == nil {
		return false
	}
	words := strings.Fields(doc.Text())
	if len(words) == 0 {
		return false
	}
	if article && len(words) > 1 && (words[0] == "A" || words[0] == "An" || words[0] == "The") {
		words = words[1:]
	}
	return strings.TrimRight(words[0], ".,:;") == name
}

// receiverType returns the name of a method's receiver type.
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr: // generic receiver
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// TestReadmeCommandsFirst checks that the README opens with the two
// commands a newcomer runs.
func TestReadmeCommandsFirst(t *testing.T) {
	blocks := readmeBlocks(t)
	if len(blocks) == 0 {
		t.Fatal("README.md has no code block")
	}
	first := blocks[0].code
	for _, cmd := range []string{"go run ./examples/chat", "go test ./..."} {
		if !strings.Contains(first, cmd) {
			t.Errorf("the README's first code block lacks %q:\n%s", cmd, first)
		}
	}
}

// TestReadmeSamplesAreCopiedFromCode checks that each Go sample of the
// README appears verbatim in the file its first line names, so that the
// samples are code that compiles and is tested.
func TestReadmeSamplesAreCopiedFromCode(t *testing.T) {
	n := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "go" {
			continue
		}
		n++
		first, rest, _ := strings.Cut(b.code, "\n")
		path, ok := strings.CutPrefix(first, "// ")
		if !ok {
			t.Errorf("a Go sample does not name its source on its first line: %q", first)
			continue
		}
		src, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Errorf("sample source: %v", err)
			continue
		}
		if !strings.Contains(string(src), rest) {
			t.Errorf("the README's sample from %s is not a verbatim part of it:\n%s", path, rest)
		}
	}
	if n == 0 {
		t.Error("the README has no Go sample")
	}
}

// TestReadmeNamesExistingTests checks that every test, example or fuzz
// target the README cites as evidence exists.
func TestReadmeNamesExistingTests(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`((?:Test|Example|Fuzz)[A-Za-z0-9_]+)`").FindAllStringSubmatch(string(readme), -1)
	if len(cited) == 0 {
		t.Fatal("the README cites no test")
	}
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Example|Fuzz)[A-Za-z0-9_]+)\(`)
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cited {
		if !defined[c[1]] {
			t.Errorf("the README cites %s, which no test file defines", c[1])
		}
	}
}

// readmeBlock is a fenced code block of README.md.
type readmeBlock struct {
	lang, code string
}

// readmeBlocks returns the fenced code blocks of README.md, in order.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	var lines []string
	for line := range strings.SplitSeq(string(readme), "\n") {
		if fence, ok := strings.CutPrefix(line, "```"); ok {
			if cur == nil {
				cur = &readmeBlock{lang: strings.TrimSpace(fence)}
				lines = nil
			} else {
				cur.code = strings.Join(lines, "\n") + "\n"
				blocks = append(blocks, *cur)
				cur = nil
			}
			continue
		}
		if cur != nil {
			lines = append(lines, line)
		}
	}
	return blocks
}
