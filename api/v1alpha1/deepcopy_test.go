package v1alpha1

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/randfill"
)

// TestDeepCopyIsDeep: a copy of a random Tenant or TenantDefaults equals it and shares no
// pointer, slice or map with it. A field added without `make generate` is copied
// shallowly by the stale DeepCopyInto (or not at all), and fails here.
func TestDeepCopyIsDeep(t *testing.T) {
	tests := []struct {
		name string
		new  func() any
		copy func(any) any
	}{
		{"Tenant", func() any { return &Tenant{} }, func(o any) any { return o.(*Tenant).DeepCopy() }},
		{"TenantDefaults", func() any { return &TenantDefaults{} }, func(o any) any { return o.(*TenantDefaults).DeepCopy() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range int64(50) {
				orig := tt.new()
				filler(seed).Fill(orig)
				cp := tt.copy(orig)
				if !reflect.DeepEqual(cp, orig) {
					t.Fatalf("seed %d: the copy differs:\n%+v\n%+v", seed, cp, orig)
				}
				if path := shared(reflect.ValueOf(orig).Elem(), reflect.ValueOf(cp).Elem(), tt.name); path != "" {
					t.Fatalf("seed %d: the copy shares %s with the original", seed, path)
				}
			}
		})
	}
}

// shared returns the path of the first pointer, slice or map that a and b (equal values
// of one type) share, or "".
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !a.IsNil() {
			return shared(a.Elem(), b.Elem(), path)
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() {
			return "" // a value; its *Location is shared by every copy of a time
		}
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); p != "" {
				return p
			}
		}
	}
	return ""
}

func filler(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(1, 3).Funcs(
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewQuantity(c.Int63n(1<<20), resource.DecimalSI)
		},
		func(tm *metav1.Time, c randfill.Continue) {
			*tm = metav1.Unix(c.Int63n(1<<31), 0)
		})
}
