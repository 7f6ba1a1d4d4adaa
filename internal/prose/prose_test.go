package prose

import "testing"

func TestProse(t *testing.T) {
	tests := []struct{ got, want string }{
		{And(nil), ""},
		{And([]string{"a"}), "a"},
		{And([]string{"a", "b"}), "a and b"},
		{And([]string{"a", "b", "c"}), "a, b and c"},
		{List(nil), "-"},
		{List([]string{"a", "b"}), "a,b"},
		{OrDash(""), "-"},
		{OrDash("x"), "x"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: %q; want %q", i, tt.got, tt.want)
		}
	}
}

func TestPercentNote(t *testing.T) {
	tests := []struct{ got, want string }{
		{Percent(0), "0%"}, {Percent(0.00042), "0.042%"}, {Percent(0.03), "3%"}, {Percent(0.125), "12.5%"},
		{Note(""), ""}, {Note("n"), " (n)"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: %q; want %q", i, tt.got, tt.want)
		}
	}
}
