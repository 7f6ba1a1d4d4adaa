package report

import "fmt"

// FormatChange formats m.Change as "+12.3%" or, for shares, "+4.1 pt";
// "-" when the base is zero and the change is relative.
func (m MetricComparison) FormatChange() string {
	if m.Points {
		return fmt.Sprintf("%+.1f pt", m.Change)
	}
	if m.Base == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*m.Change)
}

// FormatP formats the p-value, "-" when no test gave one.
func (m MetricComparison) FormatP() string {
	if m.Test != TestRank && m.Test != TestProportions {
		return "-"
	}
	if m.PValue < 0.0001 {
		return "<0.0001"
	}
	return fmt.Sprintf("%.4f", m.PValue)
}

// Evidence says what the verdict rests on: "30/30 s" (the rank test of
// the per-second samples), "totals, z-test" or "totals".
func (m MetricComparison) Evidence() string {
	if m.Basis == BasisSeconds {
		return fmt.Sprintf("%d/%d s", m.BaseN, m.NewN)
	}
	if m.Test == TestProportions {
		return "totals, z-test"
	}
	return "totals"
}

// Label is the verdict as reports show it: "REGRESSION" for a regression,
// followed by ": " and the reason when there is one.
func (m MetricComparison) Label() string {
	v := m.Verdict
	if m.Regression {
		v = "REGRESSION"
	}
	if m.Reason == "" {
		return v
	}
	return v + ": " + m.Reason
}

// FormatTotal formats a run's total of m: the value, and for a share its
// counts, "1.20 (12 of 1000)".
func (m MetricComparison) FormatTotal(new bool) string {
	v, n, of := m.BaseTotal, m.BaseCount, m.BaseOf
	if new {
		v, n, of = m.NewTotal, m.NewCount, m.NewOf
	}
	if !m.Points {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.2f (%d of %d)", v, n, of)
}
