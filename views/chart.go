package views

import (
	"fmt"
	"strconv"
	"time"
)

// ChartDay is one day of the registrations chart.
type ChartDay struct {
	Day       time.Time // midnight UTC
	Succeeded int64
	Failed    int64
}

// BarChart is a bar chart laid out in the coordinates of an SVG viewBox, so the
// template only copies numbers into attributes (the CSP forbids inline styles;
// SVG presentation attributes are fine) and the CSS colours it by class.
type BarChart struct {
	ViewBox   string
	Label     string // the chart's accessible summary (aria-label)
	Bars      []ChartBar
	YTicks    []ChartText
	XLabels   []ChartText
	GridLines []ChartLine
	Axis      ChartLine
}

// ChartBar is one bar; Title is its accessible name and tooltip.
type ChartBar struct {
	X, Y, W, H string
	Class      string // bar-ok or bar-bad
	Title      string
}

// ChartText is an axis label.
type ChartText struct {
	X, Y, Text, Anchor string
}

// ChartLine is a grid or axis line.
type ChartLine struct {
	X1, Y1, X2, Y2 string
}

// Chart geometry, in viewBox units.
const (
	chartW, chartH             = 720.0, 200.0
	chartLeft, chartRight      = 40.0, 8.0
	chartTop, chartBottom      = 10.0, 22.0
	chartLabelEvery            = 5
	chartSlotFill, chartBarGap = 0.8, 1.0
)

// NewRegistrationChart lays out successful and failed registration attempts per
// day as pairs of bars, oldest day on the left.
func NewRegistrationChart(days []ChartDay) BarChart {
	var peak, ok, bad int64
	for _, d := range days {
		peak = max(peak, d.Succeeded, d.Failed)
		ok += d.Succeeded
		bad += d.Failed
	}
	top := niceCeiling(peak)
	plotW, plotH := chartW-chartLeft-chartRight, chartH-chartTop-chartBottom
	baseY := chartTop + plotH
	ch := BarChart{
		ViewBox: fmt.Sprintf("0 0 %s %s", chartNum(chartW), chartNum(chartH)),
		Axis:    ChartLine{chartNum(chartLeft), chartNum(baseY), chartNum(chartW - chartRight), chartNum(baseY)},
	}
	ch.Label = fmt.Sprintf("Registration attempts per day over %d days: %d succeeded, %d rejected", len(days), ok, bad)
	if len(days) > 0 {
		ch.Label += fmt.Sprintf(" (%s to %s)", days[0].Day.Format(time.DateOnly), days[len(days)-1].Day.Format(time.DateOnly))
	}
	for _, v := range []int64{0, top / 2, top} {
		y := baseY - plotH*float64(v)/float64(top)
		ch.YTicks = append(ch.YTicks, ChartText{chartNum(chartLeft - 6), chartNum(y + 3), strconv.FormatInt(v, 10), "end"})
		if v > 0 {
			ch.GridLines = append(ch.GridLines, ChartLine{chartNum(chartLeft), chartNum(y), chartNum(chartW - chartRight), chartNum(y)})
		}
	}
	if len(days) == 0 {
		return ch
	}
	slot := plotW / float64(len(days))
	barW := (slot*chartSlotFill - chartBarGap) / 2
	for i, d := range days {
		x := chartLeft + slot*float64(i) + slot*(1-chartSlotFill)/2
		date := d.Day.Format(time.DateOnly)
		for j, b := range []struct {
			n            int64
			class, label string
		}{{d.Succeeded, "bar-ok", "registered"}, {d.Failed, "bar-bad", "rejected"}} {
			if b.n == 0 {
				continue
			}
			h := plotH * float64(b.n) / float64(top)
			ch.Bars = append(ch.Bars, ChartBar{
				X: chartNum(x + float64(j)*(barW+chartBarGap)), Y: chartNum(baseY - h), W: chartNum(barW), H: chartNum(h),
				Class: b.class, Title: fmt.Sprintf("%s: %d %s", date, b.n, b.label),
			})
		}
		// Label every fifth day, counting back from today so today is labelled.
		if (len(days)-1-i)%chartLabelEvery == 0 {
			ch.XLabels = append(ch.XLabels, ChartText{chartNum(x + slot*chartSlotFill/2), chartNum(chartH - 6), d.Day.Format("2 Jan"), "middle"})
		}
	}
	return ch
}

// niceCeiling rounds n up to 2, 4, 6, 8 or 10 times a power of ten, so the
// middle tick is a whole number.
func niceCeiling(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{2, 4, 6, 8, 10} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func chartNum(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
