package report

import (
	"math"
	"slices"
	"sort"
)

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// mwExactMax is the largest n1*n2 for which MannWhitneyU computes the exact
// distribution (when there are no ties).
const mwExactMax = 2500

// MannWhitneyU returns the two-sided p-value of the Mann-Whitney U (Wilcoxon
// rank-sum) test that a and b come from the same distribution: exact for
// small samples without ties, otherwise the normal approximation with tie
// and continuity corrections. It returns 1 when either sample is empty or
// every value is the same.
func MannWhitneyU(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n := n1 + n2
	var r1, tieSum float64
	ties := false
	for i := 0; i < n; {
		j := i
		for j < n && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+1+j) / 2 // average of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].first {
				r1 += rank
			}
		}
		if t := float64(j - i); t > 1 {
			ties = true
			tieSum += t*t*t - t
		}
		i = j
	}
	u := r1 - float64(n1*(n1+1))/2
	if !ties && n1*n2 <= mwExactMax {
		return mwExact(n1, n2, u)
	}
	mu := float64(n1*n2) / 2
	nf := float64(n)
	variance := float64(n1*n2) / 12 * ((nf + 1) - tieSum/(nf*(nf-1)))
	if variance <= 0 {
		return 1
	}
	z := (math.Abs(u-mu) - 0.5) / math.Sqrt(variance)
	if z < 0 {
		z = 0
	}
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}

// mwExact returns the exact two-sided p-value of U = u for samples of n1
// and n2 without ties, from the count of rank arrangements giving each U.
func mwExact(n1, n2 int, u float64) float64 {
	maxU := n1 * n2
	// f[i][j][k]: arrangements of i and j items with U = k; built up over
	// j with i rolling, keeping one slice per i.
	f := make([][]float64, n1+1)
	for i := range f {
		f[i] = make([]float64, maxU+1)
	}
	for i := 0; i <= n1; i++ {
		f[i][0] = 1 // j = 0: one arrangement, U = 0
	}
	for j := 1; j <= n2; j++ {
		// Going up in i: f_j[i][k] = f_j[i-1][k-j] + f_{j-1}[i][k]
		// (the largest item is from the first sample, beating all j of
		// the second, or from the second sample).
		for i := 1; i <= n1; i++ {
			cur := f[i]
			prev := f[i-1] // already f_j[i-1]
			for k := maxU; k >= 0; k-- {
				v := cur[k] // f_{j-1}[i][k]
				if k >= j {
					v += prev[k-j]
				}
				cur[k] = v
			}
		}
	}
	dist := f[n1]
	total := 0.0
	for _, v := range dist {
		total += v
	}
	k := int(math.Round(u))
	lo, hi := 0.0, 0.0
	for i, v := range dist {
		if i <= k {
			lo += v
		}
		if i >= k {
			hi += v
		}
	}
	return math.Min(1, 2*math.Min(lo, hi)/total)
}

// TwoProportionZ returns the two-sided p-value of the pooled
// two-proportion z-test that x1 of n1 and x2 of n2 come from the same
// rate. It returns 1 when n1 or n2 is not positive, or when the pooled
// share is 0 or 1 (nothing varies).
func TwoProportionZ(x1, n1, x2, n2 int64) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pool := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se <= 0 || math.IsNaN(se) {
		return 1
	}
	z := math.Abs(p1-p2) / se
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}

// ProportionsPowered reports whether n1 and n2 trials are enough for the
// two-proportion z-test to find a change of d (a fraction) from the share
// p1 significant at alpha (two-sided): d >= z * sqrt(q(1-q)(1/n1 + 1/n2)),
// with z the normal quantile of 1 - alpha/2 and q = min(1/2, p1 + d/2).
func ProportionsPowered(p1 float64, n1, n2 int64, d, alpha float64) bool {
	if n1 <= 0 || n2 <= 0 || d <= 0 || alpha <= 0 {
		return false
	}
	q := math.Min(0.5, p1+d/2)
	se := math.Sqrt(q * (1 - q) * (1/float64(n1) + 1/float64(n2)))
	z := math.Sqrt2 * math.Erfcinv(alpha)
	return d >= z*se
}
