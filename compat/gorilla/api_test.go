package websocket

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenAPI lists gorilla/websocket v1.5.3's exported surface, one
// declaration a line, as surface prints it.
const goldenAPI = "testdata/gorilla-v1.5.3.api"

// gorillaDir, when set, makes TestAPI rewrite goldenAPI from gorilla's
// source in that directory, for example
//
//	go test -run TestAPI -gorilla-src=$(cd bench && go list -m -f '{{.Dir}}' github.com/gorilla/websocket)
var gorillaDir = flag.String("gorilla-src", "", "rewrite "+goldenAPI+" from gorilla/websocket's source in this directory")

// TestAPI checks that this package declares exactly gorilla v1.5.3's
// exported names, with the same signatures: constants with their values
// (untyped, as gorilla's), variables with their types, struct fields,
// interface methods, functions and methods with their parameter and result
// types.
func TestAPI(t *testing.T) {
	if *gorillaDir != "" {
		lines, err := surface(*gorillaDir)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(goldenAPI, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	want, err := os.ReadFile(goldenAPI)
	require.NoError(t, err)
	got, err := surface(".")
	require.NoError(t, err)
	wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
	assert.Greater(t, len(wantLines), 90, "the golden list looks truncated")
	for _, l := range wantLines {
		assert.Contains(t, got, l, "gorilla declares it; this package does not")
	}
	for _, l := range got {
		assert.Contains(t, wantLines, l, "this package declares it; gorilla does not")
	}
}

// TestSurfaceCatchesDifferences checks that surface tells apart what the
// API test must tell apart: a renamed parameter does not count, a changed
// type, a typed constant or a missing field does.
func TestSurfaceCatchesDifferences(t *testing.T) {
	src := func(body string) []string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "a.go"), []byte("package a\n"+body), 0o644))
		lines, err := surface(dir)
		require.NoError(t, err)
		return lines
	}
	base := src("type T struct{ A int; b int }\nfunc F(x, y int) (n int, err error)\nconst C = 1\nvar E = errors.New(\"e\")")
	assert.Equal(t, []string{
		"const C = 1",
		"func F(int, int) (int, error)",
		"type T struct",
		"type T struct field A int",
		"var E error",
	}, base)
	assert.Equal(t, base, src("type T struct{ A int }\nfunc F(a int, b int) (int, error)\nconst C = 1\nvar E error = x"))
	assert.NotEqual(t, base, src("type T struct{ A int64 }\nfunc F(x, y int) (n int, err error)\nconst C = 1\nvar E error"))
	assert.NotEqual(t, base, src("type T struct{ A int }\nfunc F(x, y int) (n int, err error)\nconst C T = 1\nvar E error"))
	assert.NotEqual(t, base, src("type T struct{}\nfunc F(x, y int) (n int, err error)\nconst C = 1\nvar E error"))
}

// surface returns the exported declarations of the Go package in dir (its
// files for this platform, tests excluded), one a line, sorted.
func surface(dir string) ([]string, error) {
	pkg, err := build.ImportDir(dir, 0)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			out = append(out, declSurface(fset, d)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func declSurface(fset *token.FileSet, d ast.Decl) []string {
	var out []string
	switch d := d.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() {
			return nil
		}
		recv := ""
		if d.Recv != nil {
			recv = "(" + fieldTypes(fset, d.Recv)[0] + ") "
			if !strings.Contains(recv, ".") && !receiverExported(recv) {
				return nil
			}
		}
		out = append(out, "func "+recv+d.Name.Name+signature(fset, d.Type))
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.ValueSpec:
				for i, n := range s.Names {
					if !n.IsExported() {
						continue
					}
					if d.Tok == token.CONST {
						// Untyped constants keep their value's expression;
						// typed ones their type, which must then match.
						line := "const " + n.Name
						if s.Type != nil {
							line += " " + expr(fset, s.Type)
						}
						if i < len(s.Values) {
							line += " = " + expr(fset, s.Values[i])
						}
						out = append(out, line)
						continue
					}
					out = append(out, "var "+n.Name+" "+varType(fset, s, i))
				}
			case *ast.TypeSpec:
				if !s.Name.IsExported() {
					continue
				}
				out = append(out, typeSurface(fset, s)...)
			}
		}
	}
	return out
}

func receiverExported(recv string) bool {
	name := strings.Trim(recv, "(*) ")
	return ast.IsExported(name)
}

func typeSurface(fset *token.FileSet, s *ast.TypeSpec) []string {
	name := s.Name.Name
	switch t := s.Type.(type) {
	case *ast.StructType:
		out := []string{"type " + name + " struct"}
		for _, f := range t.Fields.List {
			typ := expr(fset, f.Type)
			for _, n := range f.Names {
				if n.IsExported() {
					out = append(out, "type "+name+" struct field "+n.Name+" "+typ)
				}
			}
			if len(f.Names) == 0 {
				out = append(out, "type "+name+" struct embeds "+typ)
			}
		}
		return out
	case *ast.InterfaceType:
		out := []string{"type " + name + " interface"}
		for _, m := range t.Methods.List {
			if ft, ok := m.Type.(*ast.FuncType); ok {
				out = append(out, "type "+name+" interface method "+m.Names[0].Name+signature(fset, ft))
			} else {
				out = append(out, "type "+name+" interface embeds "+expr(fset, m.Type))
			}
		}
		return out
	}
	alias := ""
	if s.Assign.IsValid() {
		alias = "= "
	}
	return []string{"type " + name + " " + alias + expr(fset, s.Type)}
}

// varType is the declared type of a variable, or the type its value
// obviously has: error for errors.New and fmt.Errorf, *T for &T{...}.
func varType(fset *token.FileSet, s *ast.ValueSpec, i int) string {
	if s.Type != nil {
		return expr(fset, s.Type)
	}
	if i < len(s.Values) {
		switch v := s.Values[i].(type) {
		case *ast.CallExpr:
			switch expr(fset, v.Fun) {
			case "errors.New", "fmt.Errorf":
				return "error"
			}
		case *ast.UnaryExpr:
			if cl, ok := v.X.(*ast.CompositeLit); ok && v.Op == token.AND {
				return "*" + expr(fset, cl.Type)
			}
		}
	}
	return "?"
}

// signature prints a function type without parameter names.
func signature(fset *token.FileSet, ft *ast.FuncType) string {
	s := "(" + strings.Join(fieldTypes(fset, ft.Params), ", ") + ")"
	res := fieldTypes(fset, ft.Results)
	switch {
	case len(res) == 1:
		s += " " + res[0]
	case len(res) > 1:
		s += " (" + strings.Join(res, ", ") + ")"
	}
	return s
}

// fieldTypes lists a field list's types, once per name.
func fieldTypes(fset *token.FileSet, fl *ast.FieldList) []string {
	if fl == nil {
		return nil
	}
	var out []string
	for _, f := range fl.List {
		n := max(len(f.Names), 1)
		for range n {
			out = append(out, expr(fset, f.Type))
		}
	}
	return out
}

// expr prints an expression, with interface{} spelled any and function
// types without parameter names.
func expr(fset *token.FileSet, e ast.Expr) string {
	if ft, ok := e.(*ast.FuncType); ok {
		return "func" + signature(fset, ft)
	}
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, e); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.ReplaceAll(b.String(), "interface{}", "any")
}

// TestEveryNameIsExercised checks that each name of the golden list
// appears in this package's tests other than the API test: every constant,
// variable, function, type, method and struct field.
func TestEveryNameIsExercised(t *testing.T) {
	want, err := os.ReadFile(goldenAPI)
	require.NoError(t, err)
	used := map[string]bool{}
	fset := token.NewFileSet()
	tests, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	for _, name := range tests {
		if name == "api_test.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				used[id.Name] = true
			}
			return true
		})
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(want)), "\n") {
		name := exercisedName(line)
		assert.True(t, used[name], "no test uses %s (from %q)", name, line)
	}
}

// exercisedName returns the name a golden line declares: a method's or a
// field's own name, not its type's.
func exercisedName(line string) string {
	f := strings.Fields(line)
	switch {
	case strings.HasPrefix(line, "func ("):
		return strings.SplitN(f[2], "(", 2)[0]
	case strings.Contains(line, " struct field "), strings.Contains(line, " interface method "):
		return strings.SplitN(f[4], "(", 2)[0]
	case f[0] == "func":
		return strings.SplitN(f[1], "(", 2)[0]
	}
	return f[1]
}
