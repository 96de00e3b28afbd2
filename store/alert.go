package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Alert states.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// Alert is one occurrence of an alert: from the moment its condition held
// (FiredAt) until it stopped holding (ResolvedAt). A kind has at most one firing
// occurrence at a time; resolved ones stay as the page's history.
type Alert struct {
	ID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Kind    string
	State   string
	Message string
	FiredAt time.Time
	// NotifiedAt is the last time a notification was queued (firing, repeat, resolved).
	NotifiedAt *time.Time
	ResolvedAt *time.Time
	AckedAt    *time.Time
	AckedBy    string
	AckNote    string
	// Delivery is the last delivery status, one line per sink ("webhook: delivered ...").
	Delivery   string
	DeliveryAt *time.Time
	UpdatedAt  time.Time
}

// TableName is the alerts table.
func (Alert) TableName() string { return "alerts" }

// InsertAlert inserts a new alert, assigning the next id.
func InsertAlert(tx *Tx, a *Alert) error {
	a.UpdatedAt = time.Now().UTC()
	id, err := nextID(tx, "alerts")
	if err != nil {
		return err
	}
	a.ID = id
	return tx.g.Create(a).Error
}

// UpdateFiringAlert sets the message of the firing alert id and, when
// notified is not nil, when it was last notified; the other columns (the
// acknowledgement, the delivery status) are left as they are.
func UpdateFiringAlert(tx *Tx, id int64, message string, notified *time.Time) error {
	fields := map[string]any{"message": message, "updated_at": time.Now().UTC()}
	if notified != nil {
		fields["notified_at"] = notified.UTC()
	}
	return tx.g.Model(&Alert{}).Where("id = ? AND state = ?", id, AlertFiring).Updates(fields).Error
}

// ResolveAlert marks the firing alert id resolved at at.
func ResolveAlert(tx *Tx, id int64, at time.Time) error {
	return tx.g.Model(&Alert{}).Where("id = ? AND state = ?", id, AlertFiring).Updates(map[string]any{
		"state": AlertResolved, "resolved_at": at.UTC(), "notified_at": at.UTC(), "updated_at": time.Now().UTC()}).Error
}

// FiringAlerts returns every firing alert, oldest first.
func (db *DB) FiringAlerts(ctx context.Context) ([]Alert, error) {
	var out []Alert
	err := db.r.WithContext(ctx).Where("state = ?", AlertFiring).Order("id").Find(&out).Error
	return out, err
}

// RecentAlerts returns up to limit alerts, firing ones first, then the newest.
func (db *DB) RecentAlerts(ctx context.Context, limit int) ([]Alert, error) {
	var out []Alert
	err := db.r.WithContext(ctx).Order("CASE WHEN state = 'firing' THEN 0 ELSE 1 END, id DESC").
		Limit(limit).Find(&out).Error
	return out, err
}

// GetAlert returns one alert, or ErrNotFound.
func (db *DB) GetAlert(ctx context.Context, id int64) (*Alert, error) {
	var a Alert
	err := db.r.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &a, err
}

// AckAlert records an acknowledgement of the firing alert id; ErrNotFound when
// there is no firing alert with that id.
func AckAlert(tx *Tx, id int64, by, note string, at time.Time) error {
	res := tx.g.Model(&Alert{}).Where("id = ? AND state = ?", id, AlertFiring).
		Updates(map[string]any{"acked_at": at.UTC(), "acked_by": by, "ack_note": note, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetAlertDelivery records the last delivery status of alert id.
func SetAlertDelivery(tx *Tx, id int64, status string, at time.Time) error {
	return tx.g.Model(&Alert{}).Where("id = ?", id).
		Updates(map[string]any{"delivery": status, "delivery_at": at.UTC()}).Error
}
