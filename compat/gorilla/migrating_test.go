package websocket

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// migratingGuide is the module's migration guide.
const migratingGuide = "../../MIGRATING.md"

// apiNames holds a package's exported names: top-level ones, and the
// methods and fields of each type.
type apiNames struct {
	top     map[string]bool
	members map[string]map[string]bool // type -> method or field
}

func (n apiNames) has(ref string) bool {
	typ, member, dotted := strings.Cut(ref, ".")
	if dotted {
		return n.members[typ][member]
	}
	if n.top[ref] {
		return true
	}
	for _, m := range n.members {
		if m[ref] {
			return true
		}
	}
	return false
}

// exportedNames reads the exported names of the package in dir.
func exportedNames(t *testing.T, dir string) apiNames {
	t.Helper()
	n := apiNames{top: map[string]bool{}, members: map[string]map[string]bool{}}
	add := func(typ, name string) {
		if n.members[typ] == nil {
			n.members[typ] = map[string]bool{}
		}
		n.members[typ][name] = true
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					n.top[d.Name.Name] = true
					continue
				}
				recv := d.Recv.List[0].Type
				if s, ok := recv.(*ast.StarExpr); ok {
					recv = s.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					add(id.Name, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.ValueSpec:
						for _, id := range s.Names {
							n.top[id.Name] = true
						}
					case *ast.TypeSpec:
						n.top[s.Name.Name] = true
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, fld := range st.Fields.List {
								for _, id := range fld.Names {
									add(s.Name.Name, id.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	return n
}

// leadingName matches the name a code span of a table cell starts with:
// Name, Type.Member, or (&Type{...}).
var leadingName = regexp.MustCompile(`^(?:\(&)?([A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)?)`)

// codeSpans returns the names the code spans of a table cell start with.
func codeSpans(cell string) []string {
	var out []string
	parts := strings.Split(cell, "`")
	for i := 1; i < len(parts); i += 2 {
		if m := leadingName.FindStringSubmatch(parts[i]); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// TestMigratingNamesExist checks every name the migration guide's tables
// cite: in the gorilla tables, the left column against this package (which
// has gorilla's API) and the right column against the native package. The
// coder table's right column is checked too.
func TestMigratingNamesExist(t *testing.T) {
	guide, err := os.ReadFile(migratingGuide)
	require.NoError(t, err)
	native := exportedNames(t, "../..")
	compat := exportedNames(t, ".")
	// Names that are not the packages' but the guide cites as parts of
	// other things (a header field).
	foreign := map[string]bool{"Host": true}
	section := ""
	rows := 0
	for line := range strings.SplitSeq(string(guide), "\n") {
		if strings.HasPrefix(line, "## ") {
			section = line
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		require.Len(t, cells, 4, "a table row with two cells: %s", line)
		rows++
		if strings.Contains(section, "gorilla") {
			for _, name := range codeSpans(cells[1]) {
				assert.True(t, compat.has(name), "gorilla has no %s (row %q)", name, line)
			}
		}
		for _, name := range codeSpans(cells[2]) {
			assert.True(t, foreign[name] || native.has(name), "the native package has no %s (row %q)", name, line)
		}
	}
	assert.Greater(t, rows, 50, "the tables were not found")
}

// TestMigratingGuideCatchesUnknownNames checks the check: a made-up name
// is not found.
func TestMigratingGuideCatchesUnknownNames(t *testing.T) {
	native := exportedNames(t, "../..")
	assert.True(t, native.has("Conn.ReadMessageContext"))
	assert.True(t, native.has("Threshold"))
	assert.False(t, native.has("Conn.ReadMessageCtx"))
	assert.False(t, native.has("CloseNormalClosure"))
	assert.Equal(t, []string{"Upgrader", "Conn.Close", "StatusCode"},
		codeSpans("`(&Upgrader{}).Upgrade(w, r, nil)` and `Conn.Close()`, `r.Header`, `StatusCode`"))
}
