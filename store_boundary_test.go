package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// looksLikeSQL tells a statement (a string literal, or a name that says SQL) from
// the other Raw methods of the code base (a JWK's Raw(&key) takes a pointer).
func looksLikeSQL(args []ast.Expr) bool {
	if len(args) == 0 {
		return false
	}
	switch a := args[0].(type) {
	case *ast.BasicLit:
		return a.Kind == token.STRING
	case *ast.BinaryExpr:
		return true // a statement built by concatenation
	case *ast.Ident:
		return strings.Contains(strings.ToLower(a.Name), "sql")
	case *ast.SelectorExpr:
		return strings.Contains(strings.ToLower(a.Sel.Name), "sql")
	}
	return false
}

// TestOnlyStoreTouchesTheDatabase: no package but store (and its test helper
// storetest) imports GORM, a GORM driver or database/sql, or calls .Raw or
// .Exec, in non-test code. A second database backend then only has to implement
// what store marks "sqlite-only".
func TestOnlyStoreTouchesTheDatabase(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == "store" || d.Name() == "testdata" || (path != "." && strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir // store and store/storetest own the database
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "database/sql" || p == "gorm.io/gorm" || strings.HasPrefix(p, "gorm.io/gorm/") || strings.HasPrefix(p, "gorm.io/driver/") {
				t.Errorf("%s imports %s: only store may", fset.Position(imp.Pos()), p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Raw" || sel.Sel.Name == "Exec") && looksLikeSQL(call.Args) {
					t.Errorf("%s calls .%s: SQL belongs in store", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
