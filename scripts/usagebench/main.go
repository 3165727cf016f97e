// Command usagebench prints the usage recorder's throughput on a
// 10,000-record delivery against DynamoDB Local, next to a raw
// BatchWriteItem loop writing the same items, and fails if the recorder
// reaches less than 0.8x of it. It uses $DYNAMODB_ENDPOINT if set, else
// starts its own in-memory DynamoDB Local.
//
//	go run ./scripts/usagebench [-n 10000] [-min 0.8]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/usagebench"
)

func main() {
	n := flag.Int("n", 10000, "records in the delivery")
	minRatio := flag.Float64("min", 0.8, "fail below this recorder/raw throughput ratio")
	flag.Parse()
	if err := run(context.Background(), *n, *minRatio); err != nil {
		fmt.Fprintln(os.Stderr, "usagebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, minRatio float64) error {
	endpoint, stop, err := dynamolocal.EnvOrStart(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = stop() }()
	client, err := dynamolocal.NewClient(ctx, endpoint)
	if err != nil {
		return err
	}
	var drops []func(context.Context) error
	defer func() {
		for _, drop := range drops {
			_ = drop(context.Background())
		}
	}()
	newTable := func() (string, error) {
		names, drop, err := dynamolocal.FreshTables(ctx, client, "bench", []schema.Table{schema.Usage})
		if err != nil {
			return "", err
		}
		drops = append(drops, drop)
		return names[schema.Usage.ID], nil
	}
	res, err := usagebench.Compare(ctx, client, newTable, n)
	if err != nil {
		return err
	}
	fmt.Println(res)
	if res.Ratio() < minRatio {
		return fmt.Errorf("recorder at %.2fx of the raw loop, below %.2fx", res.Ratio(), minRatio)
	}
	return nil
}
