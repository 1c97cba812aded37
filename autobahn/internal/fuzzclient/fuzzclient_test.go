package fuzzclient

import (
	"slices"
	"testing"
)

func TestParseCases(t *testing.T) {
	good := []struct {
		spec string
		want []int
	}{
		{"", []int{1, 2, 3, 4, 5}},
		{"3", []int{3}},
		{"1-3", []int{1, 2, 3}},
		{"4-5,1", []int{4, 5, 1}},
		{" 2 , 2-3 ", []int{2, 3}},
	}
	for _, c := range good {
		got, err := ParseCases(c.spec, 5)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseCases(%q) = %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
	for _, spec := range []string{"0", "6", "3-2", "a", "1-", "-2", "1,,2", "1-6"} {
		if got, err := ParseCases(spec, 5); err == nil {
			t.Errorf("ParseCases(%q) = %v, want an error", spec, got)
		}
	}
}
