// Package render writes kmsload's results (package report) for people and
// for CI: WriteText the plain-text summary.txt with its verdict, WriteHTML
// the self-contained report.html with its charts, WriteMarkdown a summary
// for pull requests and wikis, WriteJUnit one test case per threshold and
// error budget, and WriteCompareText / WriteCompareHTML a comparison of two
// runs. It decides nothing: every verdict, share and judgement comes from
// report, so that all the renderings say the same thing.
package render
