package appkey

import "testing"

func TestParse(t *testing.T) {
	for key, ok := range map[string]bool{
		"seen#demo": true, "Acme-1#chat_2": true,
		"": false, "seen": false, "a#b#c": false, "#demo": false, "seen#": false, "se en#demo": false,
		"../x#demo": false, "seen#dé": false, "api#v1": false, "API#x": false,
	} {
		org, app, err := Parse(key)
		if (err == nil) != ok {
			t.Errorf("Parse(%q) = %q, %q, %v; want ok=%v", key, org, app, err, ok)
		}
		if ok && org+"#"+app != key {
			t.Errorf("Parse(%q) = %q, %q", key, org, app)
		}
	}
}
