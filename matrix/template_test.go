package matrix

import (
	"fmt"
	"strings"
	"testing"

	"github.com/accelopt/accelopt/arch"
)

// A template with more storage levels than the workers' fixed scratch holds
// is refused with an error naming the limit.
func TestNewTemplateTooManyLevels(t *testing.T) {
	a, err := arch.Template("eyeriss", nil)
	if err != nil {
		t.Fatal(err)
	}
	inner := a.Levels[0]
	var levels []arch.Level
	for i := 0; i <= maxL-len(a.Levels); i++ {
		l := inner
		l.Name = fmt.Sprintf("extra%d", i)
		levels = append(levels, l)
	}
	a.Levels = append(levels, a.Levels...)
	_, err = NewTemplate(a, TemplateOptions{ArrayLevel: -1})
	if err == nil || !strings.Contains(err.Error(), "at most 16") {
		t.Fatalf("%d levels: err = %v, want the level limit", len(a.Levels), err)
	}
}
