import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  type IMetric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

export interface AnyAlarmProps {
  alarmDescription: string;
  metric: IMetric;
  /** Where the alarm and its clearing go (the district's alert topic). */
  action: IAlarmAction;
  /** Periods looked at, and how many must hold a count for the alarm: 1 of 1 unless set. */
  evaluationPeriods?: number;
  datapointsToAlarm?: number;
}

/**
 * An alarm on any count above zero (no data is no trouble), sent to ops when it fires
 * and again when it clears.
 */
export function anyAlarm(scope: Construct, id: string, props: AnyAlarmProps): Alarm {
  const alarm = new Alarm(scope, id, {
    alarmDescription: props.alarmDescription,
    metric: props.metric,
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: props.evaluationPeriods ?? 1,
    datapointsToAlarm: props.datapointsToAlarm,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(props.action);
  alarm.addOkAction(props.action);
  return alarm;
}
