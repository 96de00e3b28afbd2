package console

import "testing"

func TestClientsCSVCell(t *testing.T) {
	for in, want := range map[string]string{"": "", "plain": "plain", "=1+1": "'=1+1", "+1": "'+1", "-1": "'-1",
		"@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b"} {
		if got := clientsCSVCell(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
