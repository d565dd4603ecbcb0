package report

// ParetoSVG renders both fronts of p (latency against power) as a
// standalone SVG document.
func ParetoSVG(p *Pareto) (string, error) {
	c, err := paretoChart(p, nil)
	if err != nil {
		return "", err
	}
	return c.svg()
}
